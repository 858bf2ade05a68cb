package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// GossipProto is the ALPN protocol of a memberlist stream sent over TLS on
// the private port; the private API's HTTP offers "http/1.1" (or nothing).
const GossipProto = "objstore-gossip"

// httpProto is the ALPN protocol of HTTP/1.1. Only HTTP/1.1 is offered: the
// fast path and the streaming of bodies are written for it.
const httpProto = "http/1.1"

// Server is the tls.Config of a client-facing listener serving pair.
func Server(pair *Pair) *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: pair.GetCertificate,
		NextProtos:     []string{httpProto},
	}
}

// Peer is the TLS material of the private port: this node's pair, shown to
// peers both as a server and as a client, and the cluster's CA, against
// which peers are verified both ways.
type Peer struct {
	Pair *Pair
	CA   *x509.CertPool
}

// Server is the tls.Config of the private listener: it requires a client
// certificate that the CA signed for client use (mutual TLS), and offers
// HTTP and GossipProto.
func (p Peer) Server() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS13,
		GetCertificate: p.Pair.GetCertificate,
		ClientAuth:     tls.RequireAndVerifyClientCert,
		ClientCAs:      p.CA,
		NextProtos:     []string{httpProto, GossipProto},
	}
}

// Client is the tls.Config of a call to a peer with ALPN protocol proto
// (GossipProto, or HTTP when empty): it offers this node's pair and
// verifies the peer's certificate against the CA, with no host name (see
// the package doc, "Peers").
func (p Peer) Client(proto string) *tls.Config {
	if proto == "" {
		proto = httpProto
	}
	ca := p.CA
	return &tls.Config{
		MinVersion:           tls.VersionTLS13,
		GetClientCertificate: p.Pair.GetClientCertificate,
		NextProtos:           []string{proto},
		// The chain is verified below, without a host name: members are
		// addressed by IP, and being signed by the cluster's CA is what
		// makes a member.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			return verifyPeer(cs, ca)
		},
	}
}

// verifyPeer verifies a peer server's chain against ca for server use.
func verifyPeer(cs tls.ConnectionState, ca *x509.CertPool) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("tls: peer sent no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
		Roots: ca, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return fmt.Errorf("tls: peer certificate %q is not the cluster's: %w", cs.PeerCertificates[0].Subject.String(), err)
	}
	return nil
}
