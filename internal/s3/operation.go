package s3

import (
	"net/http"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
)

// Operation names the S3 operation an HTTP request the SDK sends is part
// of (GetObject, PutObject, HeadObject, ListObjectsV2, …), read from the
// request's context; "other" for a request the SDK did not name.
func Operation(r *http.Request) string {
	if op := awsmiddleware.GetOperationName(r.Context()); op != "" {
		return op
	}
	return "other"
}
