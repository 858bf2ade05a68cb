"""One S3 operation through boto3, for tests/integration/s3api_clients_test.go.

Usage: python3 boto3_client.py OP JSON_ARGS

The endpoint is $S3_ENDPOINT (path-style); credentials and region come from
the standard AWS_* environment variables. The result is one JSON document on
stdout; an error is a traceback on stderr and a non-zero exit status.
"""

import json
import os
import sys

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config


def client():
    return boto3.client(
        "s3",
        endpoint_url=os.environ["S3_ENDPOINT"],
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1, "mode": "standard"},
            connect_timeout=10,
            read_timeout=60,
        ),
    )


def make_bucket(s3, a):
    s3.create_bucket(Bucket=a["bucket"])
    return {}


def remove_bucket(s3, a):
    s3.delete_bucket(Bucket=a["bucket"])
    return {}


def upload(s3, a):
    # upload_file switches to a multipart upload at 8 MiB (the default
    # TransferConfig threshold), in 8 MiB parts.
    extra = {"ContentType": a["content_type"]}
    if a.get("meta"):
        extra["Metadata"] = a["meta"]
    s3.upload_file(a["file"], a["bucket"], a["key"], ExtraArgs=extra, Config=TransferConfig())
    return {}


def download(s3, a):
    s3.download_file(a["bucket"], a["key"], a["file"])
    return {}


def get_range(s3, a):
    out = s3.get_object(Bucket=a["bucket"], Key=a["key"], Range=a["range"])
    with open(a["file"], "wb") as f:
        f.write(out["Body"].read())
    return {"content_range": out.get("ContentRange", "")}


def head(s3, a):
    out = s3.head_object(Bucket=a["bucket"], Key=a["key"])
    return {
        "size": out["ContentLength"],
        "content_type": out.get("ContentType", ""),
        "meta": out.get("Metadata", {}),
        "etag": out.get("ETag", ""),
    }


def list_objects(s3, a):
    kw = {"Bucket": a["bucket"], "Delimiter": a["delimiter"]}
    if a.get("prefix"):
        kw["Prefix"] = a["prefix"]
    out = s3.list_objects_v2(**kw)
    return {
        "keys": [o["Key"] for o in out.get("Contents", [])],
        "prefixes": [p["Prefix"] for p in out.get("CommonPrefixes", [])],
    }


def list_all(s3, a):
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=a["bucket"], PaginationConfig={"PageSize": a["page_size"]}
    )
    keys = []
    for page in pages:
        keys.extend(o["Key"] for o in page.get("Contents", []))
    return {"keys": keys}


def copy(s3, a):
    s3.copy_object(Bucket=a["bucket"], Key=a["dst"], CopySource={"Bucket": a["bucket"], "Key": a["src"]})
    return {}


def delete(s3, a):
    s3.delete_object(Bucket=a["bucket"], Key=a["key"])
    return {}


def delete_many(s3, a):
    out = s3.delete_objects(
        Bucket=a["bucket"], Delete={"Objects": [{"Key": k} for k in a["keys"]], "Quiet": False}
    )
    return {
        "deleted": [d["Key"] for d in out.get("Deleted", [])],
        "errors": out.get("Errors", []),
    }


def presign(s3, a):
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": a["bucket"], "Key": a["key"]}, ExpiresIn=300
    )
    return {"url": url}


OPS = {
    "make_bucket": make_bucket,
    "remove_bucket": remove_bucket,
    "upload": upload,
    "download": download,
    "range": get_range,
    "head": head,
    "list": list_objects,
    "list_all": list_all,
    "copy": copy,
    "delete": delete,
    "delete_many": delete_many,
    "presign": presign,
}


def main():
    op, args = sys.argv[1], json.loads(sys.argv[2])
    json.dump(OPS[op](client(), args), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
