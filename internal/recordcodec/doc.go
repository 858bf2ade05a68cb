// Package recordcodec is the one binary encoding of objstore.Record: the
// journal stores its values in it, and nodes send each other records in it
// (record push, anti-entropy). One encoder and one decoder, so that a
// record a peer sends is checked exactly as a record read from disk.
//
// # Record
//
// A record without its key is:
//
//	flags     1 byte: bit 0 Deleted, bit 1 InRemote, bit 2 BodyVersion
//	          equals Version, bit 3 Headers not empty, bit 4 Lost; other
//	          bits 0. Bit 4 came without a new format byte: no record
//	          written before it sets it, so every old value reads as it
//	          did, and only a lost record is refused by an older reader
//	level     1 byte, at most objstore.MaxLevel
//	version   uvarint HLC, then the node as a string
//	body      BodyVersion like version; absent when flag bit 2 is set
//	size      varint
//	crc32c    4 bytes big-endian
//	md5       16 bytes
//	name      uvarint length + bytes
//	ctype     uvarint length + bytes
//	usermeta  uvarint length + bytes; 0 means none (nil)
//	headers   only when flag bit 3 is set: a uvarint count (at least 1),
//	          then each name as a string and its value as uvarint length
//	          + bytes, names strictly increasing
//
// A string is a reference into a string table that starts empty: 0
// followed by a uvarint length and the bytes for a string not met before
// (which then takes the next position, while the table has fewer than
// 65536), or i+1 for the string at position i. Node IDs and header names
// repeat, so they cost a byte after their first use.
//
// # Journal value
//
// A journal value is the format byte (2), then the record without its key
// (the journal's key holds it), with a table of its own. Values of format
// 1, which the journal wrote before it shared this encoding, are the same
// fields with every string written out as uvarint length + bytes, with no
// reference; DecodeValue still reads them, AppendValue never writes them.
//
// # Record stream
//
// A stream is the format byte (2), then each record as a uvarint length
// (1..MaxRecordSize) followed by that many bytes, then a zero length that
// ends it. One record in a stream is its bucket as a string, its ID as
// uvarint length + bytes, then the record as above; the table lives for
// the whole stream. A stream of another format is refused: nodes of
// different versions do not exchange records (rolling upgrades are not
// supported), and the error says so.
//
// # Validation
//
// The decoders accept only what the encoders write, so equal records have
// equal bytes (the journal compares encodings to skip writes that change
// nothing) and every input has one reading. They reject, with an error
// wrapping ErrMalformed: input that ends early; varints that do not fit 64
// bits or are longer than needed; unknown format bytes; flags that do not
// match the fields read (unknown bits, a body version spelt out although it
// equals the version, a headers flag without headers); a level above
// objstore.MaxLevel; an empty bucket or ID, or a bucket with a 0x00 byte;
// an empty or unsorted headers block (which could hold a name twice); a
// string reference past the table, or a string written out that the table
// holds; a stream record longer than MaxRecordSize; and trailing bytes.
// They never panic, whatever the input (FuzzDecodeValue, FuzzDecodeStream).
package recordcodec
