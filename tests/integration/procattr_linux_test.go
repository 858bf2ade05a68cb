package integration

import "syscall"

// sysProcAttr makes the kernel kill a node if the test process dies without
// running its cleanups (a -timeout panic, a SIGKILL).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
