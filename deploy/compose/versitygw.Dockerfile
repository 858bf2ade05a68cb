# The S3-compatible origin of the compose cluster: versitygw on its posix
# backend (a bucket is a directory), the same version the tests run against,
# built with go install rather than pulled, so the two cannot drift.
FROM golang:1.26-bookworm AS build
RUN CGO_ENABLED=0 GOBIN=/out go install github.com/versity/versitygw/cmd/versitygw@v1.8.0

FROM alpine:3.22
RUN addgroup -S -g 10002 vgw && adduser -S -D -H -u 10002 -G vgw vgw \
	&& mkdir -p /data && chown vgw:vgw /data
COPY --from=build /out/versitygw /usr/local/bin/versitygw
USER 10002:10002
VOLUME ["/data"]
EXPOSE 7070
# The bucket objstore uses is made at start (mkdir: posix backend), then
# versitygw serves /data with the root keys from the environment.
ENTRYPOINT ["/bin/sh", "-c", "mkdir -p \"/data/$BUCKET\" && exec versitygw --port :7070 --access \"$ROOT_ACCESS_KEY\" --secret \"$ROOT_SECRET_KEY\" --region \"$REGION\" --health /health posix /data"]
