package disk

// FileSize is the size of the file that holds a body of size bytes.
func FileSize(size int64) int64 { return size + trailerLen(size, BlockSize) }
