package redistest

import (
	"os/exec"
	"syscall"
)

// orphanProof makes the kernel kill a child process when the test process dies (a timeout
// panic, a kill), so no redis-server outlives an interrupted run.
func orphanProof(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
