package s3api

import (
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"strconv"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/sigv4"
)

type listV2Result struct {
	XMLName               xml.Name       `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
	Name                  string         `xml:"Name"`
	Prefix                string         `xml:"Prefix"`
	Delimiter             string         `xml:"Delimiter,omitempty"`
	StartAfter            string         `xml:"StartAfter,omitempty"`
	ContinuationToken     *string        `xml:"ContinuationToken"` // echoed when sent, even empty, as S3 does
	NextContinuationToken string         `xml:"NextContinuationToken,omitempty"`
	Marker                *string        `xml:"Marker"`
	NextMarker            string         `xml:"NextMarker,omitempty"`
	KeyCount              *int           `xml:"KeyCount"`
	MaxKeys               int            `xml:"MaxKeys"`
	EncodingType          string         `xml:"EncodingType,omitempty"`
	IsTruncated           bool           `xml:"IsTruncated"`
	Contents              []listObject   `xml:"Contents"`
	CommonPrefixes        []commonPrefix `xml:"CommonPrefixes"`
}

type listObject struct {
	Key          string `xml:"Key"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int64  `xml:"Size"`
	Owner        *owner `xml:"Owner,omitempty"`
	StorageClass string `xml:"StorageClass"`
}

type commonPrefix struct {
	Prefix string `xml:"Prefix"`
}

// listObjects serves ListObjectsV2 (list-type=2) and the original
// ListObjects, which s3cmd and older SDKs still use.
func (s *Server) listObjects(q *request) error {
	query := q.query
	v2 := query.Get("list-type") == "2"
	if lt := query.Get("list-type"); lt != "" && lt != "2" {
		return errInvalidArgument("list-type %q: want 2 or none", lt)
	}
	enc := query.Get("encoding-type")
	if enc != "" && enc != "url" {
		return errInvalidArgument("encoding-type %q: want url", enc)
	}
	maxKeys := objstore.MaxListKeys
	if v := query.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errInvalidArgument("max-keys %q: want a number from 0 to 1000", v)
		}
		maxKeys = min(n, objstore.MaxListKeys)
	}
	lq := objstore.ListQuery{Prefix: query.Get("prefix"), Delimiter: query.Get("delimiter"), MaxKeys: maxKeys}
	res := listV2Result{Name: q.bucket, Prefix: lq.Prefix, Delimiter: lq.Delimiter, MaxKeys: maxKeys, EncodingType: enc}
	if v2 {
		res.StartAfter = query.Get("start-after")
		lq.StartAfter = res.StartAfter
		// An empty continuation-token lists from the beginning (or from
		// start-after) and is echoed back empty, as S3 does.
		if query.Has("continuation-token") {
			tok := query.Get("continuation-token")
			res.ContinuationToken = &tok
		}
		if tok := query.Get("continuation-token"); tok != "" {
			after, err := base64.RawURLEncoding.DecodeString(tok)
			if err != nil {
				return errInvalidArgument("the continuation token %q is not one this server issued", tok)
			}
			lq.StartAfter = string(after)
		}
	} else {
		marker := query.Get("marker")
		res.Marker = &marker
		lq.StartAfter = marker
	}
	if err := s.checkBucket(q); err != nil {
		return err
	}
	var p objstore.ListPage
	if maxKeys > 0 {
		var err error
		if p, err = s.node.List(q.r.Context(), q.bucket, lq); err != nil {
			return err
		}
	}
	res.IsTruncated = p.Truncated
	if p.Truncated {
		if v2 {
			res.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(p.Next))
		} else {
			res.NextMarker = p.Next
		}
	}
	for _, o := range p.Objects {
		lo := listObject{Key: o.Key, LastModified: xmlTime(o.Modified), ETag: o.ETag, Size: o.Size, StorageClass: "STANDARD"}
		if !v2 || query.Get("fetch-owner") == "true" {
			lo.Owner = &theOwner
		}
		res.Contents = append(res.Contents, lo)
	}
	for _, cp := range p.Prefixes {
		res.CommonPrefixes = append(res.CommonPrefixes, commonPrefix{Prefix: cp})
	}
	if v2 {
		n := len(p.Objects) + len(p.Prefixes)
		res.KeyCount = &n
	}
	if enc == "url" {
		res.encodeKeys()
	}
	writeXML(q.w, http.StatusOK, res)
	return nil
}

// encodeKeys URL-encodes every key-like field, as encoding-type=url asks:
// every byte but A-Z a-z 0-9 - . _ ~ and '/' as %XX, which both unquote and
// unquote_plus (as SDKs decode) read back exactly.
func (res *listV2Result) encodeKeys() {
	enc := func(s string) string { return sigv4.URIEncode(s, false) }
	for _, p := range []*string{&res.Prefix, &res.Delimiter, &res.StartAfter, &res.NextMarker} {
		*p = enc(*p)
	}
	if res.Marker != nil {
		m := enc(*res.Marker)
		res.Marker = &m
	}
	for i := range res.Contents {
		res.Contents[i].Key = enc(res.Contents[i].Key)
	}
	for i := range res.CommonPrefixes {
		res.CommonPrefixes[i].Prefix = enc(res.CommonPrefixes[i].Prefix)
	}
}
