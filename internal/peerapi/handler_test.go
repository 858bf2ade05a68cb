package peerapi

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"sphere.software/objstore"
)

// do sends one request to h and returns the recorded answer.
func do(t *testing.T, h http.Handler, method, target string, body io.Reader) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, target, body))
	return w
}

// oneLineError checks an error answer: its status and one text line.
func oneLineError(t *testing.T, w *httptest.ResponseRecorder, status int) {
	t.Helper()
	body := w.Body.String()
	if w.Code != status {
		t.Fatalf("status %d, want %d (%q)", w.Code, status, body)
	}
	if !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") || !strings.HasPrefix(body, "error: ") ||
		strings.Count(body, "\n") != 1 || !strings.HasSuffix(body, "\n") {
		t.Fatalf("want one text line, got %q (%s)", body, w.Header().Get("Content-Type"))
	}
}

func TestHandlerBadInput(t *testing.T) {
	rec := testRecord(objstore.Key{Bucket: "b", ID: "i"}, 7, "n")
	leaf := objstore.LeafOf(rec.Key)
	level3 := encodeRecords([]objstore.Record{rec})
	level3[8] = 3 // format, length, bucket (0, 1, 'b'), id (1, 'i'), flags, level
	leavesReq := func(leaves []uint16, recs ...objstore.Record) []byte {
		return append(appendList(nil, leaves), encodeRecords(recs)...)
	}
	tooMany := make([]uint16, maxLeavesPerRequest+1)
	for i := range tooMany {
		tooMany[i] = uint16(i)
	}
	outOfRange := append([]byte{listFormat, 1, 0x80, 0x80, 0x04}, encodeRecords(nil)...) // leaf 65536
	cases := []struct {
		name, method, target string
		body                 []byte
		status               int
	}{
		{"records garbage", "POST", pathRecords, []byte("garbage"), 400},
		{"records empty", "POST", pathRecords, nil, 400},
		{"records level 3", "POST", pathRecords, level3, 400},
		{"records cut", "POST", pathRecords, encodeRecords([]objstore.Record{rec})[:20], 400},
		{"records oversize", "POST", pathRecords, make([]byte, maxRecordsBody+1), 413},
		{"groups garbage", "POST", pathLeafDigests, []byte("garbage"), 400},
		{"group 256", "POST", pathLeafDigests, []byte{listFormat, 2, 1, 0x80, 0x02}, 400},
		{"groups empty list", "POST", pathLeafDigests, []byte{listFormat, 0}, 400},
		{"groups oversize", "POST", pathLeafDigests, make([]byte, maxListBody+1), 413},
		{"leaves garbage", "POST", pathLeaves, []byte("garbage"), 400},
		{"leaf 65536", "POST", pathLeaves, outOfRange, 400},
		{"leaves too many", "POST", pathLeaves, leavesReq(tooMany), 400},
		{"leaves not sorted", "POST", pathLeaves, leavesReq([]uint16{leaf + 1, leaf}, rec), 400},
		{"record outside leaves", "POST", pathLeaves, leavesReq([]uint16{leaf + 1}, rec), 400},
		{"leaves without records", "POST", pathLeaves, appendList(nil, []uint16{leaf}), 400},
		{"leaves oversize", "POST", pathLeaves, make([]byte, maxRecordsBody+1), 413},
		{"body without version", "GET", pathBody + "b/i", nil, 400},
		{"body bad version", "GET", pathBody + "b/i?v=zz", nil, 400},
		{"body upper-case version", "GET", pathBody + "b/i?v=00000000000000FF-n", nil, 400},
		{"body short version", "GET", pathBody + "b/i?v=ff-n", nil, 400},
		{"body not held", "GET", pathBody + "b/i?v=00000000000000ff-n", nil, 404},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			local := newFake(t)
			local.put(testRecord(objstore.Key{Bucket: "b", ID: "other"}, 1, "n"))
			before := local.snapshot()
			w := do(t, NewHandler(local, nil), c.method, c.target, bytes.NewReader(c.body))
			oneLineError(t, w, c.status)
			if local.applyCalls() != 0 || !reflect.DeepEqual(local.snapshot(), before) {
				t.Fatal("bad input was applied")
			}
			t.Log(strings.TrimSpace(w.Body.String()))
		})
	}
}

// TestHandlerOversizeStream sends a body over the limit without a length.
func TestHandlerOversizeStream(t *testing.T) {
	local := newFake(t)
	srv := httptest.NewServer(NewHandler(local, nil))
	defer srv.Close()
	r, w := io.Pipe()
	go func() {
		chunk := make([]byte, 1<<20)
		for range maxRecordsBody>>20 + 2 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
		_ = w.Close()
	}()
	defer func() { _ = r.Close() }() // stops the writer if the server hung up early
	resp, err := http.Post(srv.URL+pathRecords, "application/octet-stream", r)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || local.applyCalls() != 0 {
		t.Fatalf("status %s, %d applies; want 413 and none", resp.Status, local.applyCalls())
	}
}

func TestHandlerRoutes(t *testing.T) {
	h := NewHandler(newFake(t), nil)
	if w := do(t, h, "GET", pathPing, nil); w.Code != 200 {
		t.Errorf("ping: %d", w.Code)
	}
	if w := do(t, h, "POST", pathDigests, nil); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST digests: %d, want 405", w.Code)
	}
	if w := do(t, h, "GET", "/private/v1/nothing", nil); w.Code != http.StatusNotFound {
		t.Errorf("unknown route: %d, want 404", w.Code)
	}
	w := do(t, h, "GET", pathDigests, nil)
	if w.Code != 200 || w.Body.Len() != 8*objstore.DigestGroups {
		t.Errorf("digests: %d, %d bytes", w.Code, w.Body.Len())
	}
	w = do(t, h, "POST", pathLeafDigests, bytes.NewReader(appendList(nil, []uint8{0, 9, 255})))
	if w.Code != 200 || w.Body.Len() != 3*8*objstore.LeavesPerGroup {
		t.Errorf("leaf digests: %d, %d bytes", w.Code, w.Body.Len())
	}
}

// TestHandlerLeavesAnswersSnapshot checks that the answer holds the
// server's records as they were before it merged the caller's.
func TestHandlerLeavesAnswersSnapshot(t *testing.T) {
	key := objstore.Key{Bucket: "b", ID: "i"}
	old, newer := testRecord(key, 1, "server"), testRecord(key, 2, "client")
	local := newFake(t)
	local.put(old)
	body := append(appendList(nil, []uint16{objstore.LeafOf(key)}), encodeRecords([]objstore.Record{newer})...)
	w := do(t, NewHandler(local, nil), "POST", pathLeaves, bytes.NewReader(body))
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	got, err := decodeRecords(w.Body.Bytes())
	if err != nil || !reflect.DeepEqual(got, []objstore.Record{old}) {
		t.Fatalf("answer %+v, %v; want the old record", got, err)
	}
	if !reflect.DeepEqual(local.snapshot()[key], newer) {
		t.Fatal("the caller's newer record was not merged")
	}
}

// errLocal fails GroupDigests.
type errLocal struct{ *fakeLocal }

func (errLocal) GroupDigests(context.Context) ([]uint64, error) { return nil, io.ErrUnexpectedEOF }

func TestHandlerLocalFailure(t *testing.T) {
	w := do(t, NewHandler(errLocal{newFake(t)}, nil), "GET", pathDigests, nil)
	oneLineError(t, w, http.StatusInternalServerError)
}
