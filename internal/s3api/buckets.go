package s3api

import (
	"encoding/xml"
	"errors"
	"io"
	"net/http"

	"sphere.software/objstore"
)

// checkBucket fails with NoSuchBucket when the request's bucket is missing.
func (s *Server) checkBucket(q *request) error {
	return s.node.CheckBucket(q.r.Context(), q.bucket)
}

type owner struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName"`
}

var theOwner = owner{ID: "objstore", DisplayName: "objstore"}

type listBucketsResult struct {
	XMLName xml.Name     `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListAllMyBucketsResult"`
	Owner   owner        `xml:"Owner"`
	Buckets []bucketItem `xml:"Buckets>Bucket"`
}

type bucketItem struct {
	Name         string `xml:"Name"`
	CreationDate string `xml:"CreationDate"`
}

func (s *Server) listBuckets(q *request) error {
	buckets, err := s.node.ListBuckets(q.r.Context())
	if err != nil {
		return err
	}
	res := listBucketsResult{Owner: theOwner, Buckets: make([]bucketItem, 0, len(buckets))}
	for _, b := range buckets {
		res.Buckets = append(res.Buckets, bucketItem{Name: b.Name, CreationDate: xmlTime(b.Created)})
	}
	writeXML(q.w, http.StatusOK, res)
	return nil
}

// createBucketConfiguration is CreateBucket's optional body.
type createBucketConfiguration struct {
	XMLName            xml.Name `xml:"CreateBucketConfiguration"`
	LocationConstraint string   `xml:"LocationConstraint"`
}

func (s *Server) createBucket(q *request) error {
	body, err := io.ReadAll(io.LimitReader(q.r.Body, 64<<10))
	if err != nil {
		return err
	}
	if len(body) > 0 {
		var cfg createBucketConfiguration
		if err := xml.Unmarshal(body, &cfg); err != nil {
			return errorf("MalformedXML", http.StatusBadRequest, "the CreateBucketConfiguration is not well-formed: %v", err)
		}
	}
	if err := s.node.CreateBucket(q.r.Context(), q.bucket); err != nil {
		return err
	}
	q.w.Header().Set("Location", "/"+q.bucket)
	q.w.WriteHeader(http.StatusOK)
	return nil
}

// deleteBucket passes through; the node refuses while the cluster holds
// live objects of the bucket that the origin may not have yet.
func (s *Server) deleteBucket(q *request) error {
	if err := s.node.DeleteBucket(q.r.Context(), q.bucket); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) headBucket(q *request) error {
	if err := s.node.HeadBucket(q.r.Context(), q.bucket); err != nil {
		return err
	}
	q.w.Header().Set("X-Amz-Bucket-Region", s.cfg.Region)
	q.w.WriteHeader(http.StatusOK)
	return nil
}

type locationConstraint struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ LocationConstraint"`
	Region  string   `xml:",chardata"`
}

// getBucketLocation reports the region; us-east-1 is the empty string, as
// S3 reports it.
func (s *Server) getBucketLocation(q *request) error {
	if err := s.checkBucket(q); err != nil {
		return err
	}
	region := s.cfg.Region
	if region == "us-east-1" {
		region = ""
	}
	writeXML(q.w, http.StatusOK, locationConstraint{Region: region})
	return nil
}

type versioningConfiguration struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ VersioningConfiguration"`
}

// getBucketVersioning reports versioning as never enabled: objstore keeps
// one version per key.
func (s *Server) getBucketVersioning(q *request) error {
	if err := s.checkBucket(q); err != nil {
		return err
	}
	writeXML(q.w, http.StatusOK, versioningConfiguration{})
	return nil
}

type accessControlPolicy struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ AccessControlPolicy"`
	Owner   owner    `xml:"Owner"`
	Grants  []grant  `xml:"AccessControlList>Grant"`
}

type grant struct {
	Grantee    grantee `xml:"Grantee"`
	Permission string  `xml:"Permission"`
}

type grantee struct {
	XMLNSXSI    string `xml:"xmlns:xsi,attr"`
	Type        string `xml:"xsi:type,attr"`
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName"`
}

// ownerOnlyACL is the one ACL objstore has: the owner may do everything.
// Tools such as s3cmd read it; access is governed by the credentials.
func ownerOnlyACL() accessControlPolicy {
	return accessControlPolicy{Owner: theOwner, Grants: []grant{{
		Grantee:    grantee{XMLNSXSI: "http://www.w3.org/2001/XMLSchema-instance", Type: "CanonicalUser", ID: theOwner.ID, DisplayName: theOwner.DisplayName},
		Permission: "FULL_CONTROL",
	}}}
}

func (s *Server) getBucketACL(q *request) error {
	if err := s.checkBucket(q); err != nil {
		return err
	}
	writeXML(q.w, http.StatusOK, ownerOnlyACL())
	return nil
}

func (s *Server) getObjectACL(q *request) error {
	if _, err := s.node.Stat(q.r.Context(), q.objectKey()); err != nil {
		if errors.Is(err, objstore.ErrNotFound) {
			return s.missing(q, err)
		}
		return err
	}
	writeXML(q.w, http.StatusOK, ownerOnlyACL())
	return nil
}

type tagging struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ Tagging"`
	TagSet  struct{} `xml:"TagSet"`
}

// getObjectTagging answers that an object has no tags: objstore keeps none
// (setting them is not implemented), and copy tools such as the AWS CLI
// ask before they copy.
func (s *Server) getObjectTagging(q *request) error {
	if _, err := s.node.Stat(q.r.Context(), q.objectKey()); err != nil {
		return s.missing(q, err)
	}
	writeXML(q.w, http.StatusOK, tagging{})
	return nil
}
