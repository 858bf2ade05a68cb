// Package pagecache tells the tests of the write path where a file's bytes
// went: how many of its pages the page cache holds, and whether a
// directory's file system takes writes around the cache at all. It is for
// tests that check a promise of internal/durable's WriteAround (the bytes
// of a large body take no page cache on their way to the disk) through the
// layers above it. Linux only.
package pagecache
