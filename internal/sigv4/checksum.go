package sigv4

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"hash/crc32"
	"hash/crc64"
)

// crc64NVME is the CRC-64/NVME table (polynomial 0xAD93D23594C93659,
// reflected), which hash/crc64 computes with init and final xor of all ones.
var crc64NVME = crc64.MakeTable(0x9A6C9329AC4BC9B5)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// NewChecksum returns the hash that an x-amz-checksum-* header or trailer
// (named in lowercase) carries, or nil for one this package does not know.
func NewChecksum(trailer string) hash.Hash {
	switch trailer {
	case "x-amz-checksum-crc32":
		return crc32.NewIEEE()
	case "x-amz-checksum-crc32c":
		return crc32.New(castagnoli)
	case "x-amz-checksum-crc64nvme":
		return crc64.New(crc64NVME)
	case "x-amz-checksum-sha1":
		return sha1.New()
	case "x-amz-checksum-sha256":
		return sha256.New()
	}
	return nil
}

// ChecksumValue is how a header or trailer spells a checksum: base64 of
// its big-endian bytes.
func ChecksumValue(h hash.Hash) string {
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}
