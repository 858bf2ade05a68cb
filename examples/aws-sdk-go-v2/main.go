// Command aws-sdk-go-v2 writes and reads an object through objstore's S3 API
// with the AWS SDK for Go v2. It takes the node's access key from
// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func main() {
	ctx := context.Background()
	client := s3.New(s3.Options{
		BaseEndpoint: aws.String("http://localhost:10997"),
		Region:       "us-east-1",
		UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(
			os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), ""),
	})
	_, err := client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("reports"), Key: aws.String("go/sdk.txt"),
		Body: strings.NewReader("hello from aws-sdk-go-v2"),
	})
	if err != nil {
		log.Fatal(err)
	}
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("reports"), Key: aws.String("go/sdk.txt")})
	if err != nil {
		log.Fatal(err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s (ETag %s)\n", body, aws.ToString(out.ETag))
}
