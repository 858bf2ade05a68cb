//go:build !linux

package objstoretest

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }
