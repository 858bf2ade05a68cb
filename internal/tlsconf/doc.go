// Package tlsconf loads the TLS material of a node's listeners and of its
// calls to peers: a certificate and key pair read from two files and
// re-read when they change, so that a renewed certificate is served without
// a restart, and the cluster's CA, against which nodes verify each other
// (mutual TLS on the private port).
//
// # Reloading
//
// A Pair checks its files' size and modification time at most once per
// CheckInterval, on the handshake that needs the certificate (no goroutine
// to own). When they changed it loads the new pair; a pair that does not
// load (a file half written, a key that does not match the certificate) is
// logged once and the last good pair stays in use, so a bad renewal never
// takes a listener down. The files are read again on the next change, so
// writing the certificate and then the key (or the other way round) ends
// with the new pair.
//
// # Peers
//
// Members address each other by IP and port, so a peer's certificate is not
// checked against a host name: a peer is any holder of a certificate signed
// by the cluster's CA (Peer.CA), with the usage its role needs (serverAuth
// for the answering node, clientAuth for the calling one). Use a CA that
// signs nothing but the cluster's nodes.
package tlsconf
