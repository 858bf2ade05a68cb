//go:build !linux

package integration

import "syscall"

// sysProcAttr has no parent-death signal outside Linux: a node outlives a
// test process that dies without running its cleanups.
func sysProcAttr() *syscall.SysProcAttr { return nil }
