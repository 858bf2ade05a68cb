// Command minio-go writes and reads an object through objstore's S3 API
// with the MinIO Go client v7. It takes the node's access key from
// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

func main() {
	ctx := context.Background()
	mc, err := minio.New("localhost:10997", &minio.Options{
		Creds:  credentials.NewStaticV4(os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), ""),
		Region: "us-east-1",
	})
	if err != nil {
		log.Fatal(err)
	}
	body := "hello from minio-go"
	_, err = mc.PutObject(ctx, "reports", "go/minio.txt", strings.NewReader(body), int64(len(body)),
		minio.PutObjectOptions{ContentType: "text/plain"})
	if err != nil {
		log.Fatal(err)
	}
	obj, err := mc.GetObject(ctx, "reports", "go/minio.txt", minio.GetObjectOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer obj.Close()
	got, err := io.ReadAll(obj)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(got))
}
