package main

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/peerapi"
	"sphere.software/objstore/internal/s3api"
	"sphere.software/objstore/internal/sigv4"
)

// fakePeers is a cluster whose members answer with fixed credentials; a
// member without an answer is unreachable.
type fakePeers struct {
	mu      sync.Mutex // guards members and answers
	members []objstore.Member
	answers map[string]peerapi.SharedCredentials
}

func (f *fakePeers) Members() []objstore.Member {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.members)
}

func (f *fakePeers) Credentials(_ context.Context, m objstore.Member) (peerapi.SharedCredentials, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sc, ok := f.answers[m.ID]
	if !ok {
		return sc, errors.New("unreachable")
	}
	return sc, nil
}

func (f *fakePeers) set(id string, sc peerapi.SharedCredentials) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !slices.ContainsFunc(f.members, func(m objstore.Member) bool { return m.ID == id }) {
		f.members = append(f.members, objstore.Member{ID: id, Addr: id + ":11999", State: "alive"})
	}
	f.answers[id] = sc
}

// joiningKeys opens the generated keys of node id that joins a cluster
// (-N given) with a cluster key, in a new state dir.
func joiningKeys(t *testing.T, id string) *s3Keys {
	t.Helper()
	cfg := DefaultConfig()
	cfg.ClusterKey, cfg.Nodes, cfg.SyncInterval = "k", []string{"seed:11999"}, time.Second
	keys, err := openGeneratedKeys(cfg, id, filepath.Join(t.TempDir(), generatedCredentials), discard)
	if err != nil {
		t.Fatal(err)
	}
	if keys.keys.Len() != 0 {
		t.Fatal("a joining node generated credentials before asking its cluster")
	}
	return keys
}

// stored reads the node's credentials file.
func stored(t *testing.T, k *s3Keys) []sigv4.Credentials {
	t.Helper()
	creds, err := s3api.ReadCredentialsFile(k.path)
	if err != nil {
		t.Fatal(err)
	}
	return creds
}

func TestGeneratedKeysLearnedFromMember(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		first := s3api.GenerateCredentials()
		peers := &fakePeers{answers: map[string]peerapi.SharedCredentials{}}
		peers.set("b-down", peerapi.SharedCredentials{})
		delete(peers.answers, "b-down")
		keys := joiningKeys(t, "c")
		keys.start(t.Context(), peers)
		defer keys.stopKeys()
		time.Sleep(time.Second) // members appear after the start
		peers.set("a", peerapi.SharedCredentials{Generated: []sigv4.Credentials{first}})
		time.Sleep(askRetry)
		synctest.Wait()
		if got := keys.keys.List(); !slices.Equal(got, []sigv4.Credentials{first}) {
			t.Fatalf("keys %v, want the member's %v", got, first)
		}
		if got := stored(t, keys); !slices.Equal(got, []sigv4.Credentials{first}) {
			t.Fatalf("file holds %v, want %v", got, first)
		}
		// A pair generated elsewhere (a cluster that formed in pieces)
		// reaches this node at a later sync.
		other := s3api.GenerateCredentials()
		peers.set("a", peerapi.SharedCredentials{Generated: []sigv4.Credentials{first, other}})
		// Each sync asks one random member, and b-down never answers: a
		// few syncs (virtual time) reach a.
		for range 50 {
			time.Sleep(keys.every)
			synctest.Wait()
			if keys.keys.Len() == 2 {
				break
			}
		}
		want := slices.SortedFunc(slices.Values([]sigv4.Credentials{first, other}), func(x, y sigv4.Credentials) int {
			return strings.Compare(x.AccessKey, y.AccessKey)
		})
		if got := keys.keys.List(); !slices.Equal(got, want) {
			t.Fatalf("keys %v, want %v", got, want)
		}
		if got := stored(t, keys); len(got) != 2 {
			t.Fatalf("file holds %v, want both pairs", got)
		}
		if got := keys.share().Generated; len(got) != 2 {
			t.Fatalf("shares %v, want both pairs", got)
		}
	})
}

func TestGeneratedKeysConflictKeepsOwn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		own := s3api.GenerateCredentials()
		peers := &fakePeers{answers: map[string]peerapi.SharedCredentials{}}
		peers.set("a", peerapi.SharedCredentials{Generated: []sigv4.Credentials{{AccessKey: own.AccessKey, SecretKey: "forged"}}})
		keys := joiningKeys(t, "c")
		keys.learn([]sigv4.Credentials{own}, objstore.Member{ID: "x"})
		keys.start(t.Context(), peers)
		defer keys.stopKeys()
		time.Sleep(3 * keys.every)
		synctest.Wait()
		if secret, _ := keys.keys.Secret(own.AccessKey); secret != own.SecretKey {
			t.Fatalf("secret changed to %q", secret)
		}
	})
}

// TestGeneratedKeysStartedTogether: nodes that find only members without
// keys wait, then the one with the lowest ID generates and the others take
// its pair.
func TestGeneratedKeysStartedTogether(t *testing.T) {
	tests := []struct {
		name         string
		self         string
		members      []string
		wantGenerate time.Duration // when the node generates
	}{
		{"alone: seeds unreachable", "b", nil, generateAfter},
		{"lowest ID generates", "a", []string{"b", "c"}, generateAfter},
		{"others wait for it, only so long", "b", []string{"a", "c"}, generateAnyway},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				peers := &fakePeers{answers: map[string]peerapi.SharedCredentials{}}
				for _, id := range tt.members {
					peers.set(id, peerapi.SharedCredentials{})
				}
				keys := joiningKeys(t, tt.self)
				keys.start(t.Context(), peers)
				defer keys.stopKeys()
				start := time.Now()
				for keys.keys.Len() == 0 && time.Since(start) < 2*generateAnyway {
					time.Sleep(askRetry)
					synctest.Wait()
				}
				took := time.Since(start)
				if keys.keys.Len() != 1 || took < tt.wantGenerate || took > tt.wantGenerate+askRetry {
					t.Fatalf("%d keys after %s; want one generated at %s", keys.keys.Len(), took, tt.wantGenerate)
				}
				if len(stored(t, keys)) != 1 {
					t.Fatal("generated keys are not in the file")
				}
			})
		})
	}
}

func TestGeneratedKeysWithoutClusterKey(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Nodes = []string{"seed:11999"}
	keys, err := openGeneratedKeys(cfg, "b", filepath.Join(t.TempDir(), generatedCredentials), discard)
	if err != nil {
		t.Fatal(err)
	}
	if keys.keys.Len() != 1 {
		t.Fatalf("%d keys; without a cluster key a joining node generates its own", keys.keys.Len())
	}
	if sc := keys.share(); len(sc.Generated) != 0 || sc.Configured {
		t.Fatalf("shares %+v without a cluster key", sc)
	}
	keys.start(t.Context(), &fakePeers{})
	keys.stopKeys() // nothing runs: returns at once
}
