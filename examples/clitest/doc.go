// Package clitest tests the command line that every program under
// examples/ shares (see internal/cli): it builds each program as a user
// does and checks -h, -help, -version, the exit status of bad usage, and
// that the same things have the same flag names across programs.
package clitest
