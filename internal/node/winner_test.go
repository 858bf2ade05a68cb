package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"sphere.software/objstore"
)

func TestDecideUpload(t *testing.T) {
	ours := objstore.Version{HLC: 100, Node: "b"}
	at := func(hlc uint64, node string) objstore.Record {
		return objstore.Record{Version: objstore.Version{HLC: hlc, Node: node}}
	}
	foreign := objstore.Record{Version: objstore.ForeignVersion(time.Unix(1<<40, 0))}
	tests := []struct {
		name  string
		got   objstore.Record
		found bool
		want  originStep
	}{
		{"nothing in the origin", objstore.Record{}, false, stepPut},
		{"older version", at(99, "z"), true, stepPut},
		{"same HLC, lower node", at(100, "a"), true, stepPut},
		{"this very version", at(100, "b"), true, stepLanded},
		{"same HLC, higher node", at(100, "c"), true, stepSuperseded},
		{"newer version", at(101, "a"), true, stepSuperseded},
		{"foreign object, even with a later time", foreign, true, stepPut},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := decideUpload(ours, tt.got, tt.found); got != tt.want {
				t.Errorf("decideUpload(%v, %v, %v) = %d, want %d", ours, tt.got.Version, tt.found, got, tt.want)
			}
		})
	}
}

// scriptedOrigin is a ConditionalRemote whose HEADs answer from heads in
// turn and whose conditional PUTs answer from puts in turn.
type scriptedOrigin struct {
	Remote
	heads []scriptedHead
	puts  []error
	put   []string // the ETags the PUTs were conditional on
}

type scriptedHead struct {
	rec  objstore.Record
	etag string
	err  error
}

func (s *scriptedOrigin) StatETag(context.Context, objstore.Key) (objstore.Record, string, error) {
	h := s.heads[0]
	s.heads = s.heads[1:]
	return h.rec, h.etag, h.err
}

func (s *scriptedOrigin) PutIf(_ context.Context, _ objstore.Record, _ io.ReaderAt, etag string) error {
	s.put = append(s.put, etag)
	err := s.puts[0]
	s.puts = s.puts[1:]
	return err
}

func TestPutOrigin(t *testing.T) {
	ours := objstore.Record{Key: objstore.Key{Bucket: "b", ID: "k"}, Version: objstore.Version{HLC: 100, Node: "b"}}
	at := func(hlc uint64) objstore.Record {
		return objstore.Record{Version: objstore.Version{HLC: hlc, Node: "a"}}
	}
	missing := scriptedHead{err: objstore.ErrNotFound}
	changed := fmt.Errorf("put: %w", objstore.ErrOriginChanged)
	cut := errors.New("connection reset")
	tests := []struct {
		name    string
		heads   []scriptedHead
		puts    []error
		landed  bool
		wantErr bool
		wantPut []string
		fresh   bool // the journal holds no live record: no HEAD first
	}{
		{"no object: If-None-Match", []scriptedHead{missing}, []error{nil}, true, false, []string{""}, false},
		{"older object: If-Match its ETag", []scriptedHead{{rec: at(99), etag: "e1"}}, []error{nil}, true, false, []string{"e1"}, false},
		{"newer object: no upload", []scriptedHead{{rec: at(101), etag: "e1"}}, nil, false, false, nil, false},
		{"a newer version lands between HEAD and PUT",
			[]scriptedHead{{rec: at(99), etag: "e1"}, {rec: at(101), etag: "e2"}}, []error{changed}, false, false, []string{"e1"}, false},
		{"an older version lands between HEAD and PUT",
			[]scriptedHead{missing, {rec: at(98), etag: "e2"}}, []error{changed, nil}, true, false, []string{"", "e2"}, false},
		{"cut connection, our upload landed",
			[]scriptedHead{{rec: at(99), etag: "e1"}, {rec: ours, etag: "e3"}, {rec: ours, etag: "e3"}}, []error{cut}, true, false, []string{"e1"}, false},
		{"cut connection, origin unchanged: the error stands",
			[]scriptedHead{{rec: at(99), etag: "e1"}, {rec: at(99), etag: "e1"}}, []error{cut}, false, true, []string{"e1"}, false},
		{"fresh key: If-None-Match without a HEAD", nil, []error{nil}, true, false, []string{""}, true},
		{"fresh key, an object there: refused, then HEAD and If-Match",
			[]scriptedHead{{rec: at(99), etag: "e1"}}, []error{changed, nil}, true, false, []string{"", "e1"}, true},
		{"fresh key, a newer version there: refused, then no upload",
			[]scriptedHead{{rec: at(101), etag: "e1"}}, []error{changed}, false, false, []string{""}, true},
		{"fresh key, cut connection, origin still empty: the error stands",
			[]scriptedHead{missing}, []error{cut}, false, true, []string{""}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &scriptedOrigin{heads: tt.heads, puts: tt.puts}
			n := &Node{remote: o, log: slog.New(slog.DiscardHandler)}
			landed, err := n.putOrigin(context.Background(), ours, bytes.NewReader(nil), tt.fresh)
			if landed != tt.landed || (err != nil) != tt.wantErr {
				t.Errorf("putOrigin = %v, %v; want landed %v, error %v", landed, err, tt.landed, tt.wantErr)
			}
			if !slices.Equal(o.put, tt.wantPut) {
				t.Errorf("conditional PUTs on ETags %q, want %q", o.put, tt.wantPut)
			}
			if len(o.heads) != 0 || len(o.puts) != 0 {
				t.Errorf("%d HEADs and %d PUTs left unasked", len(o.heads), len(o.puts))
			}
		})
	}
}
