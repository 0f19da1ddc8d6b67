//go:build unix && !linux

package reliability

import "os/exec"

// orphanProof does nothing where the kernel offers no parent-death signal.
func orphanProof(*exec.Cmd) {}
