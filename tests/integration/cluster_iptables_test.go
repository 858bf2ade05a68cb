package integration

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// ruleTag prefixes the comment of every iptables rule the tests add; the
// test process's pid follows it, so that rules left behind by a process
// that died can be told from the rules of one that runs.
const ruleTag = "objstore-test-"

// iptablesMu serializes iptables commands of this process: they take the
// xtables lock anyway, but the order of insertions should be ours.
var iptablesMu sync.Mutex

// Partitioned is a network partition made by Partition; Heal ends it.
type Partitioned struct {
	t     testing.TB
	rules [][]string // INPUT rule specs, as added
}

// Partition drops every packet between each node of a and each node of b,
// both ways, with iptables rules `-I INPUT -s <ipA> -d <ipB> -j DROP`
// tagged with the comment objstore-test-<pid>. Nodes must have their own
// loopback addresses (NodeOpts.IP; StartCluster's do). The rules are
// removed by Heal, and at the latest when the test ends, even if it fails.
// It needs root and the iptables command; without them it fails the test.
func Partition(t testing.TB, a, b []*Node) *Partitioned {
	t.Helper()
	requireIptables(t)
	p := &Partitioned{t: t}
	t.Cleanup(p.Heal)
	comment := ruleTag + strconv.Itoa(os.Getpid())
	for _, x := range a {
		for _, y := range b {
			for _, pair := range [][2]*Node{{x, y}, {y, x}} {
				src, dst := nodeIP(t, pair[0]), nodeIP(t, pair[1])
				rule := []string{"INPUT", "-s", src, "-d", dst, "-m", "comment", "--comment", comment, "-j", "DROP"}
				if out, err := iptables(append([]string{"-I"}, rule...)...); err != nil {
					t.Fatalf("iptables -I %s: %v\n%s", strings.Join(rule, " "), err, out)
				}
				p.rules = append(p.rules, rule)
			}
		}
	}
	return p
}

// Heal removes exactly the rules Partition added; calling it again does
// nothing.
func (p *Partitioned) Heal() {
	p.t.Helper()
	for len(p.rules) > 0 {
		rule := p.rules[len(p.rules)-1]
		p.rules = p.rules[:len(p.rules)-1]
		if out, err := iptables(append([]string{"-D"}, rule...)...); err != nil {
			p.t.Errorf("iptables -D %s: %v\n%s", strings.Join(rule, " "), err, out)
		}
	}
}

// nodeIP is the address a node binds, which must be its own.
func nodeIP(t testing.TB, n *Node) string {
	t.Helper()
	ip := n.opts.IP
	if ip == "" || ip == "127.0.0.1" {
		t.Fatalf("Partition: node %s has no loopback address of its own (NodeOpts.IP)", n.PublicAddr)
	}
	return ip
}

// requireIptables fails the test unless it runs as root with a working
// iptables, and removes the rules that test processes that died left.
func requireIptables(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatalf("partition tests add iptables rules and must run as root (euid %d)", os.Geteuid())
	}
	if _, err := exec.LookPath("iptables"); err != nil {
		t.Fatalf("partition tests need the iptables command (Debian package iptables; scripts/test.sh should install it): %v", err)
	}
	out, err := iptables("-S", "INPUT")
	if err != nil {
		t.Fatalf("iptables -S INPUT: %v\n%s", err, out)
	}
	for _, rule := range staleRules(out) {
		if out, err := iptables(append([]string{"-D"}, rule...)...); err != nil {
			t.Errorf("remove stale rule %s: %v\n%s", strings.Join(rule, " "), err, out)
		} else {
			t.Logf("removed a rule a dead test process left: %s", strings.Join(rule, " "))
		}
	}
}

// staleRules returns the INPUT rules, in `iptables -S` form without -A, that
// carry our comment with the pid of a process that no longer exists.
func staleRules(listing string) [][]string {
	var stale [][]string
	for line := range strings.Lines(listing) {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "-A" {
			continue
		}
		for i := range len(f) - 1 {
			pid, ok := strings.CutPrefix(strings.Trim(f[i+1], `"`), ruleTag)
			if f[i] != "--comment" || !ok {
				continue
			}
			if _, err := os.Stat("/proc/" + pid); errors.Is(err, os.ErrNotExist) {
				stale = append(stale, f[1:])
			}
		}
	}
	return stale
}

// iptables runs the iptables command with -w (wait for the xtables lock).
func iptables(args ...string) (string, error) {
	iptablesMu.Lock()
	defer iptablesMu.Unlock()
	out, err := exec.Command("iptables", append([]string{"-w"}, args...)...).CombinedOutput()
	return string(out), err
}
