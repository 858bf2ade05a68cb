package multipart

import "errors"

// The sentinel errors of the package. Errors returned wrap them with
// context; match them with errors.Is. The comment of each names the S3
// error code the S3 API answers with.
var (
	// ErrNoSuchUpload means no upload has the given ID, or the ID is not
	// of the form this store gives out. S3: NoSuchUpload.
	ErrNoSuchUpload = errors.New("no such upload")
	// ErrInvalidPart means a completion names a part that was not uploaded
	// or whose ETag differs. S3: InvalidPart.
	ErrInvalidPart = errors.New("invalid part")
	// ErrInvalidPartOrder means a completion's part numbers are not
	// strictly ascending. S3: InvalidPartOrder.
	ErrInvalidPartOrder = errors.New("invalid part order")
	// ErrEntityTooSmall means a part of a completion other than the last is
	// smaller than the minimum part size. S3: EntityTooSmall.
	ErrEntityTooSmall = errors.New("part too small")
	// ErrInvalidPartNumber means a part number outside 1..MaxParts.
	// S3: InvalidArgument.
	ErrInvalidPartNumber = errors.New("invalid part number")
	// ErrMalformedComplete means a completion that lists no parts.
	// S3: MalformedXML.
	ErrMalformedComplete = errors.New("completion lists no parts")
)
