// Command client writes and reads an object through objstore's native API
// with the Go client package, from whichever of the nodes answers.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"strings"
	"time"

	"sphere.software/objstore/client"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := client.New(client.Config{
		// The three nodes of the README's cluster: the next is tried when one is down.
		Endpoints: []string{"localhost:20999", "localhost:20989", "localhost:20979"},
	})
	if err != nil {
		log.Fatal(err)
	}
	body := "hello from the Go client"
	put, err := c.Put(ctx, "", strings.NewReader(body), int64(len(body)),
		client.PutOptions{Name: "hello.txt", Level: client.Origin, UserMeta: []byte(`{"owner":"ops"}`)})
	if err != nil {
		log.Fatal(err)
	}
	obj, err := c.Get(ctx, put.ID, client.GetOptions{Offset: 6, Length: 4}) // bytes 6-9
	if err != nil {
		log.Fatal(err)
	}
	defer obj.Close()
	part, err := io.ReadAll(obj)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s %s: %q of %d bytes, level %d\n", put.ID, obj.Name, part, obj.Total, obj.Level)
}
