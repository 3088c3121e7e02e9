// Package pgtest gives tests a fresh, empty PostgreSQL database each.
//
// The server is found in this order:
//
//  1. The environment variable EMAILSCHED_TEST_POSTGRES, the URL of a server
//     where the user may CREATE DATABASE (postgres://user@host:port/db or,
//     for a unix socket, postgres://user@/db?host=/socket/dir&port=5432).
//     Nothing is started then: this is what CI and a developer with a
//     running server use.
//  2. Otherwise, when initdb and pg_ctl are on PATH, a throw-away cluster is
//     started once per test binary, on the first call of URL: initdb into a
//     temporary directory, a unix socket in that directory (no TCP port),
//     fsync off. initdb refuses to run as root, so a root process runs the
//     cluster as the user nobody. Main stops it and removes the directory.
//  3. Otherwise URL skips the test, saying how to get a server.
//
// A test binary that never calls URL starts nothing. Every call of URL
// creates its own database (CREATE DATABASE with a unique name), dropped
// when the test ends, so tests may run in parallel and never see each
// other's tables.
//
// Use:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
//	func TestSomething(t *testing.T) {
//		pool, err := pgxpool.New(ctx, pgtest.URL(t))
//		...
//	}
package pgtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvVar names the environment variable holding the URL of a server to use
// instead of starting one.
const EnvVar = "EMAILSCHED_TEST_POSTGRES"

// skipMessage is what URL says when no server can be had.
const skipMessage = "no PostgreSQL: set " + EnvVar + "=postgres://... or put initdb and pg_ctl on PATH"

// server is the shared server of this test binary, found or started once.
var server struct {
	once     sync.Once
	adminURL string // a URL of a database to connect to for CREATE/DROP DATABASE
	skip     string // non-empty: why no server can be had (tests skip)
	err      error  // starting a cluster failed (tests fail)
	cluster  *cluster
}

// Main runs the tests of a test binary and then stops the cluster this
// process started, if any. Use it as
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
func Main(m *testing.M) (code int) {
	// Deferred so that a panicking test does not leave a server behind.
	defer func() {
		if c := server.cluster; c != nil {
			if err := c.stop(); err != nil {
				fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
				if code == 0 {
					code = 1
				}
			}
		}
	}()
	return m.Run()
}

// URL returns the connection URL of a fresh, empty database created for this
// test on the shared server and dropped when the test ends. It skips the test
// when no PostgreSQL can be had and fails it when one should be but is not.
func URL(t testing.TB) string {
	t.Helper()
	server.once.Do(setup)
	switch {
	case server.err != nil:
		t.Fatalf("pgtest: %v", server.err)
	case server.skip != "":
		t.Skip(server.skip)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name := databaseName(t.Name())
	conn, err := pgx.Connect(ctx, server.adminURL)
	if err != nil {
		t.Fatalf("pgtest: connect to the test server: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() { dropDatabase(t, name) })
	u, err := withDatabase(server.adminURL, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return u
}

// dropDatabase drops a test's database, closing the connections a test left
// open (WITH (FORCE)) so that a forgotten pool does not fail the cleanup.
func dropDatabase(t testing.TB, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, server.adminURL)
	if err != nil {
		t.Errorf("pgtest: connect to drop database %s: %v", name, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		t.Errorf("pgtest: drop database %s: %v", name, err)
	}
}

// setup finds or starts the shared server; it runs once per test binary.
func setup() {
	choice := choose(os.Getenv, exec.LookPath)
	switch {
	case choice.url != "":
		server.adminURL = choice.url
	case choice.start:
		c, err := startCluster()
		if err != nil {
			server.err = err
			return
		}
		server.cluster = c
		server.adminURL = c.url()
	default:
		server.skip = skipMessage
	}
}

// decision is how setup gets a server: a given URL, a cluster to start, or
// neither (skip).
type decision struct {
	url   string
	start bool
}

// choose decides where the server comes from; it takes the environment and
// PATH lookup as functions so that the decision is testable.
func choose(getenv func(string) string, lookPath func(string) (string, error)) decision {
	if u := strings.TrimSpace(getenv(EnvVar)); u != "" {
		return decision{url: u}
	}
	if _, err := lookPath("initdb"); err != nil {
		return decision{}
	}
	if _, err := lookPath("pg_ctl"); err != nil {
		return decision{}
	}
	return decision{start: true}
}

// databaseName is a unique, valid database name that tells which test made
// it: "pgtest_" + the test's name folded to [a-z0-9_] and cut short + a
// random suffix, within PostgreSQL's 63-byte limit.
func databaseName(test string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(test) {
		if b.Len() >= 32 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:]) // crypto/rand.Read never fails
	return "pgtest_" + b.String() + "_" + hex.EncodeToString(rnd[:])
}

// withDatabase returns the URL u with its database replaced by name.
func withDatabase(u, name string) (string, error) {
	p, err := url.Parse(u)
	if err != nil {
		return "", fmt.Errorf("%s is not a URL: %w", EnvVar, err)
	}
	if p.Scheme != "postgres" && p.Scheme != "postgresql" {
		return "", fmt.Errorf("%s=%q: want a postgres:// URL", EnvVar, u)
	}
	p.Path = "/" + name
	p.RawPath = ""
	q := p.Query()
	if q.Has("dbname") {
		q.Set("dbname", name)
		p.RawQuery = q.Encode()
	}
	return p.String(), nil
}

// cluster is a throw-away PostgreSQL cluster this process started.
type cluster struct {
	dir  string // the temporary directory: data/, the socket, the log
	port int    // only names the socket file: there is no TCP listener
	user string // the database superuser
	cred *credential
}

func (c *cluster) dataDir() string { return filepath.Join(c.dir, "data") }

func (c *cluster) url() string {
	q := url.Values{"host": {c.dir}, "port": {strconv.Itoa(c.port)}, "sslmode": {"disable"}}
	return (&url.URL{Scheme: "postgres", User: url.User(c.user), Path: "/postgres", RawQuery: q.Encode()}).String()
}

// startCluster runs initdb and pg_ctl start. Its cost is mostly initdb's,
// about a second with --no-sync and no locale.
func startCluster() (c *cluster, err error) {
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, fmt.Errorf("start a PostgreSQL cluster: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
		}
	}()
	// The port only names the socket file in a directory of our own, so
	// any number does; a random one keeps a socket of ours from looking
	// like a usual server's.
	var rnd [2]byte
	_, _ = rand.Read(rnd[:])
	c = &cluster{dir: dir, port: 20000 + int(binary.BigEndian.Uint16(rnd[:]))%40000, user: "postgres"}
	if os.Geteuid() == 0 {
		// initdb refuses root: the cluster runs as nobody, who must own
		// the directory and be able to reach it.
		u, err := user.Lookup("nobody")
		if err != nil {
			return nil, fmt.Errorf("start a PostgreSQL cluster as nobody (initdb refuses root): %w", err)
		}
		cred, err := parseCredential(u)
		if err != nil {
			return nil, err
		}
		if err := os.Chown(dir, int(cred.uid), int(cred.gid)); err != nil {
			return nil, fmt.Errorf("start a PostgreSQL cluster: %w", err)
		}
		c.cred = cred
	}
	if err := c.run("initdb", "-D", c.dataDir(), "-U", c.user, "--auth=trust", "--no-sync", "--no-locale", "-E", "UTF8", "--no-instructions"); err != nil {
		return nil, err
	}
	opts := fmt.Sprintf("-c listen_addresses='' -k %s -p %d -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", c.dir, c.port)
	if err := c.run("pg_ctl", "start", "-w", "-t", "60", "-D", c.dataDir(), "-l", filepath.Join(c.dir, "log"), "-o", opts); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "log"))
		return nil, fmt.Errorf("%w\nserver log:\n%s", err, log)
	}
	return c, nil
}

// stop stops the server at once (its data is thrown away) and removes the
// directory.
func (c *cluster) stop() error {
	err := c.run("pg_ctl", "stop", "-m", "immediate", "-w", "-D", c.dataDir())
	if rmErr := os.RemoveAll(c.dir); rmErr != nil && err == nil {
		err = fmt.Errorf("remove the cluster's directory: %w", rmErr)
	}
	return err
}

// run runs a PostgreSQL program as the cluster's user, in the cluster's
// directory (a directory the user can read, unlike perhaps the caller's).
func (c *cluster) run(name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = c.dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if c.cred != nil {
		setCredential(cmd, c.cred)
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}

// credential is the uid/gid a root process runs the cluster's programs as.
type credential struct{ uid, gid uint32 }

func parseCredential(u *user.User) (*credential, error) {
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("user %s has no numeric uid/gid: %w", u.Username, err)
	}
	return &credential{uid: uint32(uid), gid: uint32(gid)}, nil
}
