package s3api

import (
	"net/http"
	"testing"
)

// The write mode comes from X-Objstore-Write or x-amz-meta-objstore-write;
// two that disagree, or an unknown mode, are refused.
func TestParseWriteMode(t *testing.T) {
	for _, tc := range []struct {
		name      string
		hdr       http.Header
		back, set bool
		fails     bool
	}{
		{"none", http.Header{}, false, false, false},
		{"header back", http.Header{"X-Objstore-Write": {"back"}}, true, true, false},
		{"header through", http.Header{"X-Objstore-Write": {"through"}}, false, true, false},
		{"metadata back", http.Header{"X-Amz-Meta-Objstore-Write": {"back"}}, true, true, false},
		{"both agree", http.Header{"X-Objstore-Write": {"back"}, "X-Amz-Meta-Objstore-Write": {"back"}}, true, true, false},
		{"both disagree", http.Header{"X-Objstore-Write": {"back"}, "X-Amz-Meta-Objstore-Write": {"through"}}, false, false, true},
		{"unknown", http.Header{"X-Objstore-Write": {"later"}}, false, false, true},
	} {
		a, err := parseWriteAttrs(tc.hdr)
		if tc.fails {
			if code, status := codeOf(err); code != "InvalidArgument" || status != http.StatusBadRequest {
				t.Errorf("%s: err %v (%s %d), want InvalidArgument 400", tc.name, err, code, status)
			}
			continue
		}
		if err != nil || a.WriteBack != tc.back || a.WriteSet != tc.set {
			t.Errorf("%s: back %v set %v err %v; want back %v set %v", tc.name, a.WriteBack, a.WriteSet, err, tc.back, tc.set)
		}
		if len(a.UserMeta) != 0 {
			t.Errorf("%s: the write mode was kept as user metadata: %s", tc.name, a.UserMeta)
		}
	}
}
