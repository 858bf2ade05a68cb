package sigv4

import (
	"encoding/hex"
	"testing"
)

// The CRC catalogue's check values: each algorithm over "123456789".
func TestChecksumCheckValues(t *testing.T) {
	for name, want := range map[string]string{
		"x-amz-checksum-crc32":     "cbf43926",
		"x-amz-checksum-crc32c":    "e3069283",
		"x-amz-checksum-crc64nvme": "ae8b14860a799888",
		"x-amz-checksum-sha1":      "f7c3bc1d808e04732adf679965ccc34ca7ae3441",
	} {
		h := NewChecksum(name)
		h.Write([]byte("123456789"))
		if got := hex.EncodeToString(h.Sum(nil)); got != want {
			t.Errorf("%s = %s, want %s", name, got, want)
		}
	}
	if NewChecksum("x-amz-meta-a") != nil {
		t.Error("a checksum for a non-checksum trailer")
	}
}
