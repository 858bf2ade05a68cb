package multipart_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/multipart"
)

func TestLifecycle(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	s := openStore(t, dir, clk)
	info, err := s.Create(multipart.Info{
		Bucket: "bkt", Key: "dir/file.bin", ContentType: "application/x-thing",
		UserMeta: json.RawMessage(`{"a":"<b>"}`), Headers: map[string]string{"Cache-Control": "no-cache"},
		Level: objstore.LevelS3,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(info.ID) != 48 || strings.ContainsAny(info.ID, "/.") || !info.Initiated.Equal(clk.Now()) {
		t.Fatalf("Create gave %+v", info)
	}
	got, err := s.Get(info.ID)
	if err != nil || got.Key != "dir/file.bin" || got.Level != objstore.LevelS3 || string(got.UserMeta) != `{"a":"<b>"}` ||
		got.Headers["Cache-Control"] != "no-cache" || !got.Initiated.Equal(info.Initiated) {
		t.Fatalf("Get = %+v, %v", got, err)
	}

	// Parts of a few MiB, uploaded out of order.
	bodies := [][]byte{randomBytes(1, 3<<20+17), randomBytes(2, 2<<20), randomBytes(3, 1234)}
	clk.Advance(time.Second)
	p3 := put(t, s, info.ID, 3, bodies[2])
	p1 := put(t, s, info.ID, 1, bodies[0])
	p2 := put(t, s, info.ID, 2, bodies[1])
	for i, p := range []multipart.Part{p1, p2, p3} {
		if p.Number != i+1 || p.Size != int64(len(bodies[i])) || p.ETag != etag(bodies[i]) || !p.Modified.Equal(clk.Now()) {
			t.Errorf("part %d = %+v", i+1, p)
		}
	}
	parts, truncated, err := s.ListParts(info.ID, 0, 0)
	if err != nil || truncated || len(parts) != 3 || parts[0] != p1 || parts[1] != p2 || parts[2] != p3 {
		t.Fatalf("ListParts = %+v, %v, %v", parts, truncated, err)
	}

	a, body := readAll(t, s, info.ID, etagsOf(p1, p2, p3))
	want := bytes.Join(bodies, nil)
	if sha256.Sum256(body) != sha256.Sum256(want) {
		t.Fatalf("assembled body differs from the concatenation (%d bytes, want %d)", len(body), len(want))
	}
	if a.Size != int64(len(want)) || a.ETag != s3ETag(bodies...) || len(a.Parts) != 3 || a.Info.Key != info.Key {
		t.Fatalf("Assembly = size %d etag %s parts %d, want %d %s 3", a.Size, a.ETag, len(a.Parts), len(want), s3ETag(bodies...))
	}
	if n, b, err := s.Usage(); err != nil || n != 1 || b != int64(len(want)) {
		t.Fatalf("Usage = %d, %d, %v", n, b, err)
	}

	if err := s.Remove(info.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(info.ID); !errors.Is(err, multipart.ErrNoSuchUpload) {
		t.Fatalf("Get after Remove: %v", err)
	}
	if err := s.Remove(info.ID); !errors.Is(err, multipart.ErrNoSuchUpload) {
		t.Fatalf("second Remove: %v", err)
	}
	if n, b, _ := s.Usage(); n != 0 || b != 0 {
		t.Fatalf("Usage after Remove = %d, %d", n, b)
	}
	assertOnly(t, dir, "tmp")
	assertEmpty(t, filepath.Join(dir, "tmp"))
}

func TestReplacePart(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, newClock())
	id := create(t, s, "bkt", "k").ID
	old := randomBytes(1, 5000)
	newer := randomBytes(2, 7000)
	put(t, s, id, 1, old)
	p := put(t, s, id, 1, newer)
	last := put(t, s, id, 2, []byte("tail"))
	parts, _, err := s.ListParts(id, 0, 10)
	if err != nil || len(parts) != 2 || parts[0] != p {
		t.Fatalf("ListParts = %+v, %v", parts, err)
	}
	// The replaced part's ETag no longer completes the upload.
	if _, _, err := s.Assemble(id, []multipart.CompletePart{{Number: 1, ETag: etag(old)}}); !errors.Is(err, multipart.ErrInvalidPart) {
		t.Fatalf("Assemble with the old ETag: %v", err)
	}
	_, body := readAll(t, s, id, etagsOf(p, last))
	if !bytes.Equal(body, append(newer, "tail"...)) {
		t.Fatal("assembled body is not the replacement")
	}
	entries, err := os.ReadDir(filepath.Join(dir, id))
	if err != nil || len(entries) != 3 { // info.json and two parts
		t.Fatalf("upload dir holds %v, %v", entries, err)
	}
}

func TestPutPartErrors(t *testing.T) {
	s := openStore(t, t.TempDir(), newClock())
	id := create(t, s, "bkt", "k").ID
	ctx := context.Background()
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	boom := errors.New("boom")
	for _, tt := range []struct {
		name   string
		ctx    context.Context
		id     string
		number int
		size   int64
		body   io.Reader
		want   error
	}{
		{"unknown id", ctx, strings.Repeat("0", 48), 1, 1, strings.NewReader("x"), multipart.ErrNoSuchUpload},
		{"malformed id", ctx, "../x", 1, 1, strings.NewReader("x"), multipart.ErrNoSuchUpload},
		{"number 0", ctx, id, 0, 1, strings.NewReader("x"), multipart.ErrInvalidPartNumber},
		{"number 10001", ctx, id, 10001, 1, strings.NewReader("x"), multipart.ErrInvalidPartNumber},
		{"negative number", ctx, id, -1, 1, strings.NewReader("x"), multipart.ErrInvalidPartNumber},
		{"short", ctx, id, 1, 5, strings.NewReader("abc"), objstore.ErrIncomplete},
		{"long", ctx, id, 1, 2, strings.NewReader("abc"), objstore.ErrIncomplete},
		{"declared too large", ctx, id, 1, 8<<20 + 1, strings.NewReader("x"), objstore.ErrTooLarge},
		{"undeclared too large", ctx, id, 1, -1, bytes.NewReader(make([]byte, 8<<20+1)), objstore.ErrTooLarge},
		{"read error", ctx, id, 1, -1, io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(boom)), boom},
		{"canceled", canceled, id, 1, 1, strings.NewReader("x"), context.Canceled},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.PutPart(tt.ctx, tt.id, tt.number, tt.size, tt.body)
			if !errors.Is(err, tt.want) {
				t.Fatalf("PutPart: %v, want %v", err, tt.want)
			}
			parts, _, err := s.ListParts(id, 0, 0)
			if err != nil || len(parts) != 0 {
				t.Fatalf("a failed PutPart kept %+v (%v)", parts, err)
			}
		})
	}
	// An exact fit at the limit, undeclared, is fine.
	if _, err := s.PutPart(ctx, id, 1, -1, bytes.NewReader(make([]byte, 8<<20))); err != nil {
		t.Fatalf("PutPart of the maximum size: %v", err)
	}
}

func TestAssembleErrors(t *testing.T) {
	s := openStore(t, t.TempDir(), newClock())
	id := create(t, s, "bkt", "k").ID
	big := put(t, s, id, 1, randomBytes(1, testMinPart))
	small := put(t, s, id, 2, []byte("small"))
	last := put(t, s, id, 3, []byte("last"))
	unquoted := strings.Trim(big.ETag, `"`)
	for _, tt := range []struct {
		name string
		id   string
		want []multipart.CompletePart
		err  error
	}{
		{"unknown id", strings.Repeat("a", 48), etagsOf(big), multipart.ErrNoSuchUpload},
		{"malformed id", "a/b", etagsOf(big), multipart.ErrNoSuchUpload},
		{"empty list", id, nil, multipart.ErrMalformedComplete},
		{"descending", id, etagsOf(last, big), multipart.ErrInvalidPartOrder},
		{"duplicate", id, etagsOf(big, big), multipart.ErrInvalidPartOrder},
		{"missing part", id, []multipart.CompletePart{{Number: 1, ETag: big.ETag}, {Number: 4, ETag: last.ETag}}, multipart.ErrInvalidPart},
		{"wrong etag", id, []multipart.CompletePart{{Number: 1, ETag: last.ETag}}, multipart.ErrInvalidPart},
		{"too small", id, etagsOf(big, small, last), multipart.ErrEntityTooSmall},
		{"unquoted upper-case etag", id, []multipart.CompletePart{{Number: 1, ETag: strings.ToUpper(unquoted)}, {Number: 3, ETag: last.ETag}}, nil},
		{"small last part", id, etagsOf(big, small), nil},
		{"one small part", id, etagsOf(small), nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, r, err := s.Assemble(tt.id, tt.want)
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("Assemble: %v, want %v", err, tt.err)
			}
			if r != nil {
				if err := r.Close(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
	// Parts uploaded but not listed are ignored.
	a, body := readAll(t, s, id, etagsOf(big, last))
	if a.Size != big.Size+last.Size || len(body) != int(a.Size) || a.ETag != s3ETag(randomBytes(1, testMinPart), []byte("last")) {
		t.Fatalf("Assembly of parts 1 and 3 = %+v", a)
	}
}

func TestMalformedIDs(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "uploads")
	s := openStore(t, dir, newClock())
	// A sibling that a path built from "../x" would reach.
	victim := filepath.Join(root, "x")
	if err := os.MkdirAll(filepath.Join(victim, "part-00001"), 0o755); err != nil {
		t.Fatal(err)
	}
	valid := create(t, s, "bkt", "k").ID
	for _, id := range []string{"", "../x", "a/b", "/", ".", "..", "tmp", "x", valid + "/..", valid[:47], valid + "0",
		strings.ToUpper(valid), "../" + valid[3:], valid[:47] + "\x00", strings.Repeat("g", 48)} {
		t.Run(id, func(t *testing.T) {
			checks := map[string]error{}
			_, checks["Get"] = s.Get(id)
			_, checks["PutPart"] = s.PutPart(context.Background(), id, 1, 1, strings.NewReader("x"))
			_, _, checks["ListParts"] = s.ListParts(id, 0, 0)
			_, _, checks["Assemble"] = s.Assemble(id, []multipart.CompletePart{{Number: 1, ETag: "x"}})
			checks["Remove"] = s.Remove(id)
			for op, err := range checks {
				if !errors.Is(err, multipart.ErrNoSuchUpload) {
					t.Errorf("%s(%q): %v, want ErrNoSuchUpload", op, id, err)
				}
			}
		})
	}
	if _, err := os.Stat(filepath.Join(victim, "part-00001")); err != nil {
		t.Fatalf("the sibling directory was touched: %v", err)
	}
	if _, err := s.Get(valid); err != nil {
		t.Fatalf("the valid upload was touched: %v", err)
	}
}

func TestCreateErrors(t *testing.T) {
	s := openStore(t, t.TempDir(), newClock())
	for _, tt := range []struct {
		info multipart.Info
		want error
	}{
		{multipart.Info{Key: "k"}, objstore.ErrInvalidKey},
		{multipart.Info{Bucket: "b"}, objstore.ErrInvalidKey},
		{multipart.Info{Bucket: "b", Key: "k", UserMeta: json.RawMessage(`{`)}, objstore.ErrInvalidUserMeta},
	} {
		if _, err := s.Create(tt.info); !errors.Is(err, tt.want) {
			t.Errorf("Create(%+v): %v, want %v", tt.info, err, tt.want)
		}
	}
	// ID and Initiated given to Create are replaced.
	info, err := s.Create(multipart.Info{ID: "../evil", Bucket: "b", Key: "k", Initiated: time.Unix(1, 0)})
	if err != nil || info.ID == "../evil" || info.Initiated.Equal(time.Unix(1, 0)) {
		t.Fatalf("Create = %+v, %v", info, err)
	}
}

func TestListParts(t *testing.T) {
	s := openStore(t, t.TempDir(), newClock())
	id := create(t, s, "bkt", "k").ID
	for _, n := range []int{7, 1, 10000, 3, 5} {
		put(t, s, id, n, []byte{byte(n)})
	}
	for _, tt := range []struct {
		after, max int
		want       []int
		truncated  bool
	}{
		{0, 0, []int{1, 3, 5, 7, 10000}, false},
		{0, 2, []int{1, 3}, true},
		{3, 2, []int{5, 7}, true},
		{7, 2, []int{10000}, false},
		{5, 3, []int{7, 10000}, false},
		{10000, 2, nil, false},
		{-5, 5, []int{1, 3, 5, 7, 10000}, false},
	} {
		parts, truncated, err := s.ListParts(id, tt.after, tt.max)
		var got []int
		for _, p := range parts {
			got = append(got, p.Number)
		}
		if err != nil || truncated != tt.truncated || !slices.Equal(got, tt.want) {
			t.Errorf("ListParts(after %d, max %d) = %v, %v, %v; want %v, %v", tt.after, tt.max, got, truncated, err, tt.want, tt.truncated)
		}
	}
}

func TestListUploads(t *testing.T) {
	clk := newClock()
	s := openStore(t, t.TempDir(), clk)
	var all []multipart.Info // in S3's order
	for _, key := range []string{"a", "b/1", "b/2", "c"} {
		for range 3 {
			all = append(all, create(t, s, "bkt", key))
			clk.Advance(-time.Minute) // a clock going back still sorts by initiation time
		}
	}
	create(t, s, "other", "a")
	// S3's order: by key, then initiation time, then ID.
	for i := 0; i < len(all); i += 3 {
		all[i], all[i+2] = all[i+2], all[i]
	}
	t.Run("pages", func(t *testing.T) {
		var got []multipart.Info
		q := multipart.ListUploadsQuery{Bucket: "bkt", MaxUploads: 5}
		for pages := 0; ; pages++ {
			page, truncated, err := s.ListUploads(q)
			if err != nil || pages > 5 {
				t.Fatalf("ListUploads: %v after %d pages", err, pages)
			}
			got = append(got, page...)
			if !truncated {
				break
			}
			q.KeyMarker, q.UploadIDMarker = page[len(page)-1].Key, page[len(page)-1].ID
		}
		assertUploads(t, got, all)
	})
	for _, tt := range []struct {
		name string
		q    multipart.ListUploadsQuery
		want []multipart.Info
		more bool
	}{
		{"prefix", multipart.ListUploadsQuery{Bucket: "bkt", Prefix: "b/"}, all[3:9], false},
		{"key marker only", multipart.ListUploadsQuery{Bucket: "bkt", KeyMarker: "b/1"}, all[6:], false},
		{"both markers", multipart.ListUploadsQuery{Bucket: "bkt", KeyMarker: "b/1", UploadIDMarker: all[4].ID}, all[5:], false},
		{"upload marker alone is ignored", multipart.ListUploadsQuery{Bucket: "bkt", UploadIDMarker: all[4].ID, MaxUploads: 2}, all[:2], true},
		{"marker of a missing key", multipart.ListUploadsQuery{Bucket: "bkt", KeyMarker: "b/15"}, all[6:], false},
		{"other bucket", multipart.ListUploadsQuery{Bucket: "none"}, nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, more, err := s.ListUploads(tt.q)
			if err != nil || more != tt.more {
				t.Fatalf("ListUploads = truncated %v, %v", more, err)
			}
			assertUploads(t, got, tt.want)
		})
	}
	// A marker upload removed between pages still pages correctly.
	if err := s.Remove(all[4].ID); err != nil {
		t.Fatal(err)
	}
	got, _, _ := s.ListUploads(multipart.ListUploadsQuery{Bucket: "bkt", KeyMarker: "b/1", UploadIDMarker: all[4].ID})
	assertUploads(t, got, all[5:])
}

func TestPersistence(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	s := openStore(t, dir, clk)
	info, err := s.Create(multipart.Info{Bucket: "bkt", Key: "k", UserMeta: json.RawMessage(`{"x":1}`), Level: objstore.LevelFull})
	if err != nil {
		t.Fatal(err)
	}
	p1 := put(t, s, info.ID, 1, randomBytes(1, 4096))
	put(t, s, info.ID, 2, randomBytes(2, 10))
	p2 := put(t, s, info.ID, 2, randomBytes(3, 20))
	gone := create(t, s, "bkt", "gone")
	if err := s.Remove(gone.ID); err != nil {
		t.Fatal(err)
	}

	s2 := openStore(t, dir, clk)
	got, err := s2.Get(info.ID)
	if err != nil || got.Key != "k" || got.Level != objstore.LevelFull || !got.Initiated.Equal(info.Initiated) || string(got.UserMeta) != `{"x":1}` {
		t.Fatalf("Get after reopen = %+v, %v", got, err)
	}
	parts, _, err := s2.ListParts(info.ID, 0, 0)
	if err != nil || len(parts) != 2 || !samePart(parts[0], p1) || !samePart(parts[1], p2) {
		t.Fatalf("ListParts after reopen = %+v, %v; want %+v %+v", parts, err, p1, p2)
	}
	if _, err := s2.Get(gone.ID); !errors.Is(err, multipart.ErrNoSuchUpload) {
		t.Fatalf("a removed upload came back: %v", err)
	}
	// Replacing after a reopen wins over the parts from before it.
	p2b := put(t, s2, info.ID, 2, randomBytes(4, 30))
	s3 := openStore(t, dir, clk)
	_, body := readAll(t, s3, info.ID, etagsOf(p1, p2b))
	if !bytes.Equal(body, append(randomBytes(1, 4096), randomBytes(4, 30)...)) {
		t.Fatal("assembled body after reopen differs")
	}
}

func TestExpire(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	s := openStore(t, dir, clk)
	old := create(t, s, "bkt", "old")
	put(t, s, old.ID, 1, []byte("x"))
	clk.Advance(2 * time.Hour)
	fresh := create(t, s, "bkt", "fresh")
	clk.Advance(time.Hour)

	n, err := s.Expire(context.Background(), 2*time.Hour)
	if err != nil || n != 1 {
		t.Fatalf("Expire = %d, %v", n, err)
	}
	if _, err := s.Get(old.ID); !errors.Is(err, multipart.ErrNoSuchUpload) {
		t.Fatalf("old upload: %v", err)
	}
	if _, err := s.Get(fresh.ID); err != nil {
		t.Fatalf("fresh upload: %v", err)
	}
	if n, err := s.Expire(context.Background(), 2*time.Hour); err != nil || n != 0 {
		t.Fatalf("second Expire = %d, %v", n, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Expire(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("Expire with a canceled context: %v", err)
	}
	assertOnly(t, dir, "tmp", fresh.ID)
}

func TestConfig(t *testing.T) {
	for _, c := range []multipart.Config{
		{},
		{Dir: "d", MinPartSize: -1},
		{Dir: "d", MaxPartSize: -1},
		{Dir: "d", MinPartSize: 10, MaxPartSize: 5},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("Validate(%+v) passed", c)
		}
		if _, err := multipart.Open(c); err == nil {
			t.Errorf("Open(%+v) passed", c)
		}
	}
	c := multipart.DefaultConfig()
	c.Dir = t.TempDir()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

// assertOnly fails unless dir holds exactly the entries names.
func assertOnly(tb testing.TB, dir string, names ...string) {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if !slices.Equal(got, slices.Sorted(slices.Values(names))) {
		tb.Fatalf("%s holds %v, want %v", dir, got, names)
	}
}

func assertEmpty(tb testing.TB, dir string) {
	tb.Helper()
	assertOnly(tb, dir)
}

func assertUploads(tb testing.TB, got, want []multipart.Info) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("got %d uploads, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].ID != want[i].ID {
			tb.Fatalf("upload %d is %s (%s), want %s (%s)", i, got[i].ID, got[i].Key, want[i].ID, want[i].Key)
		}
	}
}

// samePart compares parts, their times to the file system's precision.
func samePart(a, b multipart.Part) bool {
	return a.Number == b.Number && a.Size == b.Size && a.ETag == b.ETag && a.MD5 == b.MD5 &&
		a.Modified.Sub(b.Modified).Abs() < time.Second
}
