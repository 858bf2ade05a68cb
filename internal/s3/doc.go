// Package s3 is the origin adapter for Amazon S3 and S3-compatible servers,
// built on aws-sdk-go-v2. It implements node.Remote: an objstore.Key maps to
// S3 bucket Key.Bucket and object key Key.ID.
//
// New makes no network call, so that a node starts while S3 is down; Check
// (a HeadBucket) tells whether the configured bucket is reachable.
//
// # Uploads
//
// A body of up to Config.PartSize bytes is sent with one PutObject carrying
// Content-Length and Content-MD5. A larger body goes up as a multipart upload
// whose parts are streamed from the io.ReaderAt through io.SectionReaders, a
// few at a time, so memory stays bounded whatever the object's size. A failed
// multipart upload is aborted. The part size grows past Config.PartSize when
// needed to stay within S3's 10,000 parts.
//
// # Metadata
//
// Metadata is the source of truth when a record is restored from S3. Each
// object objstore writes carries these user-defined metadata entries
// (x-amz-meta-*):
//
//	objstore-name      the record's Name, base64 (standard encoding) of its UTF-8
//	objstore-level     the consistency level, one decimal digit
//	objstore-crc32c    the body's CRC-32C, 8 lowercase hex digits
//	objstore-md5       the body's MD5, 32 lowercase hex digits (a multipart
//	                   object's ETag is not an MD5)
//	objstore-hlc       the version's hybrid logical clock, 16 lowercase hex digits
//	objstore-node      the ID of the node that wrote the version
//	objstore-usermeta  the user metadata JSON, base64 (standard encoding);
//	                   absent when the record has none or it is stored as
//	                   plain entries (below)
//	objstore-ctype     "none" when the record had no Content-Type (S3 then
//	                   answers with its default, which is not restored)
//	objstore-body-version
//	                   the BodyVersion as objstore.Version.String writes it
//	                   (16 hex digits, a dash, the node ID); absent when it
//	                   equals the Version
//	objstore-expires   the Expires stored header as given, when it is not
//	                   an HTTP date in http.TimeFormat's form (so S3 would
//	                   not keep it, or not answer with it unchanged)
//
// User metadata that is a JSON object of string values, whose keys are all
// made of a-z 0-9 - _ . (S3 lowercases keys) and do not start with
// "objstore-", and whose values are all non-empty printable ASCII without
// a space at either end (so that HTTP keeps them unchanged), is stored as
// plain metadata instead: one x-amz-meta-<key>: <value> entry per member,
// which S3-side tools read as they would any other object's. Any other user
// metadata goes into objstore-usermeta. On restore, objstore-usermeta wins
// when present; otherwise every entry whose key does not start with
// "objstore-" is collected into a JSON object with sorted keys, as
// json.Marshal writes it (so a plain object comes back equivalent, but not
// byte for byte when its keys were not sorted or it held escapes).
//
// The stored headers (objstore.StoredHeaders) travel as the S3 object's own
// Cache-Control, Content-Disposition, Content-Encoding, Content-Language
// and Expires, on a PutObject as on a CreateMultipartUpload, and are
// restored from GetObject's and HeadObject's answers (objstore-expires
// winning over Expires).
//
// The Content-Type itself travels as the object's Content-Type. S3 allows
// 2 KiB of user-defined metadata (keys and values, plain entries included);
// objstore.MaxUserMeta keeps the user metadata within it, and names are base64-encoded because
// that is the most compact encoding of arbitrary Unicode that is safe in an
// HTTP header. Put refuses, with an error wrapping objstore.ErrInvalidUserMeta,
// a record whose metadata would still exceed the 2 KiB.
//
// An object that objstore did not write has no objstore-hlc entry. Its record
// has a zero Version, Level objstore.LevelS3, the last segment of its key as
// Name, S3's Content-Type, its stored headers, its x-amz-meta-* entries
// (but those starting with "objstore-") collected as above into UserMeta
// (nil when there are none), and a Sum holding the size and, when the ETag
// is a plain MD5, the MD5. Metadata that is present but malformed is logged
// and the object is treated the same way.
//
// # Tags
//
// The user metadata is also written as S3 object tags, for S3-side tooling
// such as lifecycle rules and cost reports, when it fits S3's tag limits: it
// must be a JSON object of at most 10 entries, each key 1 to 128 characters
// (and not starting with "aws:") and each value at most 256 characters, all
// made of letters, digits, spaces and + - = . _ : / @ (AWS's pattern
// [\p{L}\p{Z}\p{N}_.:/=+\-@]; tabs and newlines are not allowed). A string value
// becomes the tag value as it is; any other JSON value becomes its JSON text.
// When any entry does not fit, no tags are set at all; the metadata still
// holds the user metadata. Tags are never read back.
//
// # Errors
//
// A missing object (NoSuchKey, or any 404) gives an error wrapping
// objstore.ErrNotFound. Every other failure — network, 5xx, access denied —
// is an *Error that wraps both the SDK's error and objstore.ErrNoRemote.
package s3
