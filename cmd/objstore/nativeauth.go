package main

import (
	"errors"
	"log/slog"

	"sphere.software/objstore/internal/httpapi"
	"sphere.software/objstore/internal/sigv4"
)

// nativeAuth is the native API's authentication (--native-api-auth), or
// nil when it is off. With it off while the S3 API has credentials, it
// warns: the S3 API's keys then protect nothing, since the native API
// reads, writes and deletes the same bucket's objects for anyone who
// reaches the public port.
func nativeAuth(cfg Config, keys *s3Keys, log *slog.Logger) (*httpapi.Auth, error) {
	if cfg.NativeAPIAuth != "on" {
		if keys != nil && (keys.configured || keys.generated) {
			log.Warn("the native API requires no authentication while the S3 API does: anyone who reaches --public-addr "+
				"can read, overwrite and delete the bucket's objects without an S3 key; set --native-api-auth on",
				"bucket", cfg.Bucket) // the address is logged once bound ("listening")
		}
		return nil, nil
	}
	if keys != nil && !keys.configured && !keys.generated && cfg.NativeAPIToken == "" {
		return nil, errors.New("--native-api-auth on: the S3 API has no keys (--s3-api-anonymous write without --s3-api-credentials) and there is no --native-api-token: nothing could pass")
	}
	var verifier *sigv4.Verifier
	if keys != nil {
		// The S3 API's own set: keys the cluster generates or learns later
		// are accepted here as soon as there.
		verifier = sigv4.NewVerifierWith(keys.keys, cfg.Region, nil)
	}
	auth, err := httpapi.NewAuth(verifier, cfg.NativeAPIToken)
	if err != nil {
		return nil, err
	}
	log.Info("native API requires authentication", "sigv4_with_s3_api_keys", verifier != nil, "bearer_token", cfg.NativeAPIToken != "")
	return auth, nil
}
