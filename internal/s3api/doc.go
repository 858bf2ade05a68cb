// Package s3api serves the S3-compatible API of a node: path-style (and,
// with a domain configured, virtual-host-style) requests signed with AWS
// Signature Version 4, answered from the same store as the native API.
//
// Objects live in the node's journal and body store under (bucket, key);
// buckets belong to the origin, and bucket operations pass through to it.
// Reads go through the cluster first and read through to the origin on a
// miss; writes take the consistency level from X-Meta-ConsistencyLevel or
// the x-amz-meta-objstore-level metadata, else the configured default (or
// the object's current level, whichever is higher: a level is never lowered
// silently). Listings merge the origin's keys with the keys the cluster
// holds but has not uploaded, and hide keys the cluster has deleted.
//
// Every error is an S3 XML error body with the code S3 clients expect.
package s3api
