package integration

import (
	"encoding/base64"
	"fmt"
	"hash/crc32"
	"net/http"
	"reflect"
	"strconv"
	"testing"
)

// TestLevels checks where each consistency level keeps a body: level 0 only
// on the node, levels 1 and 2 also in S3 by the time the PUT returns, with
// objstore's metadata and the user meta as S3 tags.
func TestLevels(t *testing.T) {
	o := newOrigin(t)
	n := o.StartNode(t)
	nodeID := n.NodeID(t)

	t.Run("level 0 stays local", func(t *testing.T) {
		id := newID()
		body := randomBody(10, 4096)
		n.MustPut(t, id, 0, body, "X-Meta-Name", "local.bin")
		if _, ok := o.Head(t, id); ok {
			t.Errorf("level 0 object %s is in S3", id)
		}
		n.MustGet(t, id, body)
	})

	for _, level := range []int{1, 2} {
		t.Run(fmt.Sprintf("level %d in S3", level), func(t *testing.T) {
			id := newID()
			body := randomBody(uint64(10+level), 100<<10)
			userMeta := map[string]string{"team": "infra", "env": "prod"}
			n.MustPut(t, id, level, body, "X-Meta-Name", "remote.bin", "X-Meta-UserMeta", `{"team":"infra","env":"prod"}`)
			got, md := o.Get(t, id)
			wantBody(t, got, body, "S3 object")
			for _, k := range []string{"objstore-name", "objstore-level", "objstore-crc32c", "objstore-hlc", "objstore-node"} {
				if md[k] == "" {
					t.Errorf("S3 metadata has no %s: %v", k, md)
				}
			}
			// User meta whose values are all strings is stored as plain S3
			// metadata, so S3 clients see it as x-amz-meta-team and so on.
			wantEq(t, "S3 metadata team", md["team"], "infra")
			wantEq(t, "S3 metadata env", md["env"], "prod")
			if b64, ok := md["objstore-usermeta"]; ok {
				t.Errorf("S3 metadata has objstore-usermeta %q for string-only user meta", b64)
			}
			name, err := base64.StdEncoding.DecodeString(md["objstore-name"])
			if err != nil {
				t.Errorf("S3 metadata objstore-name %q: %v", md["objstore-name"], err)
			}
			wantEq(t, "S3 metadata objstore-name (base64)", string(name), "remote.bin")
			wantEq(t, "S3 metadata objstore-level", md["objstore-level"], strconv.Itoa(level))
			wantEq(t, "S3 metadata objstore-crc32c", md["objstore-crc32c"], crc32c(body))
			wantEq(t, "S3 metadata objstore-node", md["objstore-node"], nodeID)
			if tags := o.Tags(t, id); !reflect.DeepEqual(tags, userMeta) {
				t.Errorf("S3 tags = %v, want %v", tags, userMeta)
			}
		})
	}

	t.Run("raise level", func(t *testing.T) {
		id := newID()
		body := randomBody(20, 50<<10)
		n.MustPut(t, id, 0, body, "X-Meta-Name", "raise.bin")
		if _, ok := o.Head(t, id); ok {
			t.Fatalf("level 0 object %s is in S3", id)
		}
		r := n.Do(t, http.MethodPost, "/api/v1/level/"+id, nil, "X-Meta-ConsistencyLevel", "1")
		wantStatus(t, r, http.StatusOK, "raise to level 1")
		got, md := o.Get(t, id)
		wantBody(t, got, body, "S3 object after raising")
		wantEq(t, "S3 metadata objstore-level", md["objstore-level"], "1")
		if m := n.Meta(t, id); m.Consistency != 1 {
			t.Errorf("meta consistency after raising = %d, want 1", m.Consistency)
		}
		get := n.MustGet(t, id, body)
		wantHeader(t, get, "X-Meta-Consistencylevel", "1", "GET after raising")

		r = n.Do(t, http.MethodPost, "/api/v1/level/"+id, nil, "X-Meta-ConsistencyLevel", "0")
		wantStatus(t, r, http.StatusConflict, "lower to level 0")
		if m := n.Meta(t, id); m.Consistency != 1 {
			t.Errorf("meta consistency after refused lowering = %d, want 1", m.Consistency)
		}
	})
}

func wantEq[T comparable](t testing.TB, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// crc32c is the CRC-32C of b as objstore writes it to S3 metadata.
func crc32c(b []byte) string {
	return fmt.Sprintf("%08x", crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
}
