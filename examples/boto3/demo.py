# boto3: write and read an object through objstore's S3 API. The node's
# access key comes from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
import os

import boto3

s3 = boto3.client("s3", endpoint_url="http://localhost:10997", region_name="us-east-1",
                  aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                  aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"])
s3.put_object(Bucket="reports", Key="a.txt", Body=b"hello", Metadata={"owner": "ops"})
obj = s3.get_object(Bucket="reports", Key="a.txt")
print(obj["Body"].read(), obj["Metadata"])
