//go:build !unix

package pgtest

import "os/exec"

// setCredential cannot switch users on this platform: there is no root
// there for initdb to refuse, so the cluster runs as the current user.
func setCredential(*exec.Cmd, *credential) {}
