package s3api

import (
	"net/http"
	"net/url"
)

// Operation names the S3 operation r asks for, as AWS names it
// (GetObject, PutObject, ListObjectsV2, CompleteMultipartUpload, …), for
// metrics to label requests with. It follows route's choices from the
// method, the address and the query, without authenticating; what route
// refuses keeps the name of what it asked for, and requests for
// sub-resources objstore does not serve are "other", so the names stay few
// whatever clients send.
func (s *Server) Operation(r *http.Request) string {
	bucket, key := s.address(r)
	query := r.URL.Query()
	switch {
	case bucket == "":
		return "ListBuckets"
	case key == "":
		return bucketOperation(r.Method, query)
	}
	for _, sub := range []string{"acl", "tagging", "retention", "legal-hold", "torrent", "restore", "select", "attributes"} {
		if query.Has(sub) {
			switch {
			case sub == "acl" && r.Method == http.MethodGet:
				return "GetObjectAcl"
			case sub == "tagging" && r.Method == http.MethodGet:
				return "GetObjectTagging"
			}
			return "other"
		}
	}
	multipart := query.Has("uploadId")
	switch r.Method {
	case http.MethodGet:
		if multipart {
			return "ListParts"
		}
		return "GetObject"
	case http.MethodHead:
		return "HeadObject"
	case http.MethodPut:
		copied := r.Header.Get("X-Amz-Copy-Source") != ""
		switch {
		case (multipart || query.Has("partNumber")) && copied:
			return "UploadPartCopy"
		case multipart || query.Has("partNumber"):
			return "UploadPart"
		case copied:
			return "CopyObject"
		}
		return "PutObject"
	case http.MethodPost:
		switch {
		case query.Has("uploads"):
			return "CreateMultipartUpload"
		case multipart:
			return "CompleteMultipartUpload"
		}
	case http.MethodDelete:
		if multipart {
			return "AbortMultipartUpload"
		}
		return "DeleteObject"
	}
	return "other"
}

// bucketGets are the GET operations on a bucket's sub-resources that
// routeBucket answers, by sub-resource, in the order it looks for them.
var bucketGets = []struct{ sub, op string }{
	{"location", "GetBucketLocation"}, {"uploads", "ListMultipartUploads"}, {"versioning", "GetBucketVersioning"},
	{"acl", "GetBucketAcl"}, {"policy", "GetBucketPolicy"}, {"cors", "GetBucketCors"},
	{"lifecycle", "GetBucketLifecycleConfiguration"}, {"tagging", "GetBucketTagging"},
	{"website", "GetBucketWebsite"}, {"encryption", "GetBucketEncryption"},
}

// bucketOperation names a request on a bucket (no key), as routeBucket
// routes it.
func bucketOperation(method string, query url.Values) string {
	switch method {
	case http.MethodGet:
		for _, g := range bucketGets {
			if query.Has(g.sub) {
				return g.op
			}
		}
		if query.Get("list-type") == "2" {
			return "ListObjectsV2"
		}
		for _, sub := range []string{"versions", "logging", "notification", "replication", "object-lock",
			"ownershipControls", "publicAccessBlock", "accelerate", "requestPayment", "analytics", "metrics", "inventory", "intelligent-tiering"} {
			if query.Has(sub) {
				return "other"
			}
		}
		return "ListObjects"
	case http.MethodHead:
		return "HeadBucket"
	case http.MethodPut:
		if len(query) == 0 {
			return "CreateBucket"
		}
	case http.MethodDelete:
		if len(query) == 0 {
			return "DeleteBucket"
		}
	case http.MethodPost:
		if query.Has("delete") {
			return "DeleteObjects"
		}
	}
	return "other"
}
