package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"strings"

	"sphere.software/objstore/client"
)

// A client of a node: write an object at level 1, read it back whole and
// in part, look at its record, and delete it.
func Example() {
	addr, stop, err := startNode() // a node in this process; yours runs elsewhere
	if err != nil {
		log.Fatal(err)
	}
	defer stop()

	ctx := context.Background()
	c, err := client.New(client.Config{Endpoints: []string{addr}})
	if err != nil {
		log.Fatal(err)
	}
	body := "hello, objstore"
	put, err := c.Put(ctx, "", strings.NewReader(body), int64(len(body)), client.PutOptions{Name: "hello.txt", Level: client.Origin})
	if err != nil {
		log.Fatal(err)
	}
	obj, err := c.Get(ctx, put.ID, client.GetOptions{Offset: 7, Length: 8})
	if err != nil {
		log.Fatal(err)
	}
	part, err := io.ReadAll(obj)
	_ = obj.Close()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %q of %d bytes, %s\n", obj.Name, part, obj.Total, obj.ContentType)

	meta, err := c.Meta(ctx, put.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("level %d, in the origin: %v\n", meta.Level, meta.InRemote)

	if _, err := c.Delete(ctx, put.ID); err != nil {
		log.Fatal(err)
	}
	_, err = c.Get(ctx, put.ID, client.GetOptions{})
	var e *client.Error
	fmt.Println(errors.Is(err, client.ErrNotFound), errors.As(err, &e) && e.Deleted)
	// Output:
	// hello.txt: "objstore" of 15 bytes, text/plain; charset=utf-8
	// level 1, in the origin: true
	// true true
}

// Several endpoints: a call that cannot reach one node, or that a node
// answers with 502, 503 or 504, goes on to the next.
func ExampleNew_failover() {
	addr, stop, err := startNode()
	if err != nil {
		log.Fatal(err)
	}
	defer stop()

	c, err := client.New(client.Config{
		Endpoints:   []string{"http://127.0.0.1:1", addr}, // the first node is down
		MaxAttempts: 4,
	})
	if err != nil {
		log.Fatal(err)
	}
	members, err := c.Nodes(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(members), "member")
	// Output: 1 member
}

// Iterate over every object, page by page.
func ExampleClient_Objects() {
	addr, stop, err := startNode()
	if err != nil {
		log.Fatal(err)
	}
	defer stop()

	ctx := context.Background()
	c, err := client.New(client.Config{Endpoints: []string{addr}})
	if err != nil {
		log.Fatal(err)
	}
	for _, name := range []string{"a.txt", "b.txt"} {
		if _, err := c.Put(ctx, "", strings.NewReader(name), int64(len(name)), client.PutOptions{Name: name}); err != nil {
			log.Fatal(err)
		}
	}
	for m, err := range c.Objects(ctx, "") {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(m.Name, m.Size)
	}
	// Output:
	// a.txt 5
	// b.txt 5
}
