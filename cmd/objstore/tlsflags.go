package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"log/slog"

	"sphere.software/objstore/internal/tlsconf"
)

// TLSFlags are the certificate files of the client-facing listeners
// (--tls-cert, --tls-key: native API, S3 API, debug) and of the private
// port (--peer-tls-cert, --peer-tls-key, --peer-tls-ca: mutual TLS between
// members). Empty means plain TCP.
type TLSFlags struct {
	Cert, Key                 string
	PeerCert, PeerKey, PeerCA string
}

// register adds the five flags and their environment variables.
func (t *TLSFlags) register(fs *flag.FlagSet, env map[string]string) {
	for _, f := range []struct {
		p                   *string
		name, envName, help string
	}{
		{&t.Cert, "tls-cert", "APP_TLS_CERT", "PEM certificate (chain) the native and S3 APIs serve HTTPS with; re-read when it changes; empty = plain HTTP"},
		{&t.Key, "tls-key", "APP_TLS_KEY", "PEM private key of --tls-cert"},
		{&t.PeerCert, "peer-tls-cert", "APP_PEER_TLS_CERT", "PEM certificate of this node on the private port, signed by --peer-tls-ca, for server and client use; empty = plain TCP between nodes"},
		{&t.PeerKey, "peer-tls-key", "APP_PEER_TLS_KEY", "PEM private key of --peer-tls-cert"},
		{&t.PeerCA, "peer-tls-ca", "APP_PEER_TLS_CA", "PEM CA certificate(s) that sign the cluster's nodes: peers are verified against it, both ways"},
	} {
		str := f.p
		fs.StringVar(str, f.name, *str, f.help)
		env[f.name] = f.envName
	}
}

// validate checks that the flags come in whole sets; the files are read by
// load, at the start of serve.
func (t TLSFlags) validate() error {
	if (t.Cert == "") != (t.Key == "") {
		return errors.New("--tls-cert and --tls-key: give both or neither")
	}
	if (t.PeerCert == "") != (t.PeerKey == "") || (t.PeerCert == "") != (t.PeerCA == "") {
		return errors.New("--peer-tls-cert, --peer-tls-key and --peer-tls-ca: give all three or none")
	}
	return nil
}

// load reads the certificate files: nil configs for what is off. An error
// names the file and its flag.
func (t TLSFlags) load(log *slog.Logger) (public *tls.Config, peer *tlsconf.Peer, err error) {
	if t.Cert != "" {
		pair, err := tlsconf.LoadPair(tlsconf.Files{Cert: t.Cert, Key: t.Key, CertName: "--tls-cert", KeyName: "--tls-key"},
			log.With("listener", "public"))
		if err != nil {
			return nil, nil, err
		}
		public = tlsconf.Server(pair)
	}
	if t.PeerCert != "" {
		pair, err := tlsconf.LoadPair(tlsconf.Files{Cert: t.PeerCert, Key: t.PeerKey, CertName: "--peer-tls-cert", KeyName: "--peer-tls-key"},
			log.With("listener", "private"))
		if err != nil {
			return nil, nil, err
		}
		ca, err := tlsconf.LoadCA(t.PeerCA, "--peer-tls-ca")
		if err != nil {
			return nil, nil, err
		}
		peer = &tlsconf.Peer{Pair: pair, CA: ca}
	}
	return public, peer, nil
}
