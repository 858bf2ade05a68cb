package httpapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/oklog/ulid/v2"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/node"
)

// TestList pages through the native bucket's live objects in id order:
// deleted objects and keys that are not native ids are left out, after=
// and limit= page, and a bad limit is 400.
func TestList(t *testing.T) {
	srv, n := newNodeServer(t, node.Config{})
	put := func(id string) {
		t.Helper()
		_, err := n.Put(t.Context(), node.PutRequest{Key: objstore.Key{Bucket: "bkt", ID: id}, Name: id + ".txt",
			Level: 0, Size: 2, Body: strings.NewReader("hi")})
		if err != nil {
			t.Fatalf("Put %s: %v", id, err)
		}
	}
	var ids []string
	for range 5 {
		ids = append(ids, ulid.Make().String())
		put(ids[len(ids)-1])
	}
	slices.Sort(ids)
	put("reports/not-a-ulid.txt") // an S3 API key in the native bucket
	if _, err := n.Delete(t.Context(), objstore.Key{Bucket: "bkt", ID: ids[2]}); err != nil {
		t.Fatal(err)
	}
	live := slices.Delete(slices.Clone(ids), 2, 3)

	var got []string
	after, pages := "", 0
	for {
		resp, body := do(t, "GET", srv.URL+"/api/v1/list?limit=3&after="+after, nil, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("list: %d %s", resp.StatusCode, body)
		}
		var page listJSON
		if err := json.Unmarshal([]byte(body), &page); err != nil {
			t.Fatalf("list: %v in %s", err, body)
		}
		pages++
		for _, o := range page.Objects {
			if o.Size != 2 || o.Name != o.ID+".txt" || o.IsDeleted {
				t.Errorf("list entry %+v: want size 2, name %s.txt, live", o, o.ID)
			}
			got = append(got, o.ID)
		}
		if !page.Truncated {
			break
		}
		after = page.Next
	}
	if !slices.Equal(got, live) || pages != 2 {
		t.Errorf("listed %v in %d pages, want %v in 2", got, pages, live)
	}
	for _, bad := range []string{"0", "1001", "x"} {
		if resp, body := do(t, "GET", srv.URL+"/api/v1/list?limit="+bad, nil, ""); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("limit=%s: %d %s, want 400", bad, resp.StatusCode, body)
		}
	}
}
