//go:build unix

package pgtest

import (
	"os/exec"
	"syscall"
)

// setCredential makes cmd run as the given user (the process must be root).
func setCredential(cmd *exec.Cmd, c *credential) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: c.uid, Gid: c.gid}}
}
