// Command s3ctl does the few S3 chores bench/run.sh needs, with the same SDK
// and settings as putload (path-style; credentials from -access and -secret,
// else from the environment):
//
//	s3ctl -endpoint URL -bucket B mb            create the bucket unless it exists
//	s3ctl -endpoint URL -bucket B presign KEY   print a presigned GET URL for KEY
//
// A presigned URL is signed for the endpoint's host, so presign with the
// address the request will be sent to (through a proxy that keeps the Host
// header, the proxy's address), and with the credentials of the server that
// will check it (for an objstore node's S3 API, its --s3-api-credentials).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func main() {
	endpoint := flag.String("endpoint", "", "S3 endpoint URL, e.g. http://127.0.0.1:7070")
	bucket := flag.String("bucket", "bench", "bucket")
	region := flag.String("region", "us-east-1", "region")
	expires := flag.Duration("expires", time.Hour, "lifetime of a presigned URL (at most 168h)")
	access := flag.String("access", "", "access key; empty = from the environment (AWS_ACCESS_KEY_ID)")
	secret := flag.String("secret", "", "secret key, with -access")
	flag.Parse()
	if err := run(*endpoint, *bucket, *region, *access, *secret, *expires, flag.Args()); err != nil {
		log.Fatalf("s3ctl: %v", err)
	}
}

func run(endpoint, bucket, region, access, secret string, expires time.Duration, args []string) error {
	if endpoint == "" {
		return errors.New("-endpoint is required (this tool talks only to a local server)")
	}
	if (access == "") != (secret == "") {
		return errors.New("give -access and -secret together")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts := []func(*config.LoadOptions) error{config.WithRegion(region)}
	if access != "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(access, secret, "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return err
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.UsePathStyle = true
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	switch {
	case len(args) == 1 && args[0] == "mb":
		return makeBucket(ctx, client, bucket)
	case len(args) == 2 && args[0] == "presign":
		req, err := s3.NewPresignClient(client, s3.WithPresignExpires(expires)).PresignGetObject(ctx,
			&s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(args[1])})
		if err != nil {
			return fmt.Errorf("presign %s: %w", args[1], err)
		}
		fmt.Println(req.URL)
		return nil
	}
	return errors.New("usage: s3ctl -endpoint URL [-bucket B] [-access A -secret S] [-expires D] mb | presign KEY")
}

func makeBucket(ctx context.Context, client *s3.Client, bucket string) error {
	if _, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err == nil {
		return nil
	}
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		return fmt.Errorf("create bucket %s: %w", bucket, err)
	}
	fmt.Fprintf(os.Stderr, "s3ctl: created bucket %s\n", bucket)
	return nil
}
