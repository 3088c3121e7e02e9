package pgtest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) {
	if os.Getenv("PGTEST_CHILD_REPORT") != "" {
		// A child that runs only tests that never call URL: after Main,
		// it says whether a cluster was started.
		code := Main(m)
		if server.cluster != nil || server.adminURL != "" {
			os.Stdout.WriteString("pgtest: server touched\n")
		} else {
			os.Stdout.WriteString("pgtest: nothing started\n")
		}
		os.Exit(code)
	}
	os.Exit(Main(m))
}

func TestChoose(t *testing.T) {
	found := func(string) (string, error) { return "/usr/bin/x", nil }
	missing := func(name string) func(string) (string, error) {
		return func(n string) (string, error) {
			if n == name {
				return "", errors.New("not found")
			}
			return "/usr/bin/" + n, nil
		}
	}
	tests := []struct {
		name   string
		env    string
		lookup func(string) (string, error)
		want   decision
	}{
		{"env wins over PATH", "postgres://u@h/db", found, decision{url: "postgres://u@h/db"}},
		{"env wins without PATH", " postgres://u@h/db ", missing("initdb"), decision{url: "postgres://u@h/db"}},
		{"PATH starts a cluster", "", found, decision{start: true}},
		{"no initdb skips", "", missing("initdb"), decision{}},
		{"no pg_ctl skips", "", missing("pg_ctl"), decision{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string {
				if k == EnvVar {
					return tt.env
				}
				return ""
			}
			got := choose(getenv, tt.lookup)
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(decision{})); diff != "" {
				t.Errorf("choose (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDatabaseName(t *testing.T) {
	valid := regexp.MustCompile(`^pgtest_[a-z0-9_]+_[0-9a-f]{12}$`)
	tests := []string{"TestX", "TestX/sub case#01", strings.Repeat("TestVeryLong", 20), "Ünïcode/✓"}
	seen := map[string]bool{}
	for _, name := range tests {
		got := databaseName(name)
		if !valid.MatchString(got) || len(got) > 63 {
			t.Errorf("databaseName(%q) = %q: not a valid short identifier", name, got)
		}
		if seen[got] {
			t.Errorf("databaseName(%q) = %q twice", name, got)
		}
		seen[got] = true
	}
	if a, b := databaseName("T"), databaseName("T"); a == b {
		t.Errorf("two calls for one test gave the same name %q", a)
	}
}

func TestWithDatabase(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://u:p@h:5432/postgres?sslmode=disable", "postgres://u:p@h:5432/x?sslmode=disable"},
		{"postgresql://u@h", "postgresql://u@h/x"},
		{"postgres://u@/postgres?host=%2Ftmp%2Fd&port=5", "postgres://u@/x?host=%2Ftmp%2Fd&port=5"},
		{"postgres://u@h/?dbname=a", "postgres://u@h/x?dbname=x"},
	}
	for _, tt := range tests {
		got, err := withDatabase(tt.in, "x")
		if err != nil || got != tt.want {
			t.Errorf("withDatabase(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"host=h dbname=d", "mysql://h/d", "postgres://h/%zz"} {
		if got, err := withDatabase(bad, "x"); err == nil {
			t.Errorf("withDatabase(%q) = %q, want an error", bad, got)
		}
	}
}

// TestURL checks that each call gives a distinct, empty, writable database
// and that the database is gone after its test.
func TestURL(t *testing.T) {
	ctx := context.Background()
	var names []string
	for _, sub := range []string{"a", "b"} {
		t.Run(sub, func(t *testing.T) {
			conn, err := pgx.Connect(ctx, URL(t))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			var name string
			var tables int
			if err := conn.QueryRow(ctx, `SELECT current_database(), (SELECT count(*) FROM pg_tables WHERE schemaname = 'public')`).Scan(&name, &tables); err != nil {
				t.Fatal(err)
			}
			if tables != 0 {
				t.Errorf("database %s has %d tables, want an empty one", name, tables)
			}
			if _, err := conn.Exec(ctx, `CREATE TABLE t (x int PRIMARY KEY); INSERT INTO t VALUES (1)`); err != nil {
				t.Fatal(err)
			}
			names = append(names, name)
		})
	}
	if len(names) != 2 {
		t.Skip("no server")
	}
	if names[0] == names[1] {
		t.Fatalf("both subtests got database %s", names[0])
	}
	conn, err := pgx.Connect(ctx, server.adminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var left int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_database WHERE datname = ANY($1)`, names).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("%d of the subtests' databases %v are still there after their tests", left, names)
	}
}

// TestURLCleanupClosesForgottenConnections: a test that leaves a connection
// open must not fail its database's cleanup.
func TestURLCleanupClosesForgottenConnections(t *testing.T) {
	t.Run("leaky", func(t *testing.T) {
		conn, err := pgx.Connect(context.Background(), URL(t))
		if err != nil {
			t.Fatal(err)
		}
		_ = conn // deliberately not closed: the cleanup must drop the database anyway
	})
}

// TestNothingStartedWithoutURL runs this binary again with only a test that
// never calls URL and checks that it started nothing.
func TestNothingStartedWithoutURL(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestChoose$", "-test.count=1")
	cmd.Env = append(os.Environ(), "PGTEST_CHILD_REPORT=1", EnvVar+"=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "pgtest: nothing started") {
		t.Errorf("child output:\n%s\nwant it to report that nothing was started", out)
	}
}

// TestSkipsWithoutServer runs this binary again with neither the variable
// nor initdb on PATH: a test that asks for a database is skipped with the
// message that says how to get one.
func TestSkipsWithoutServer(t *testing.T) {
	if os.Getenv("PGTEST_CHILD_SKIP") != "" {
		URL(t)
		t.Fatal("URL returned without a server")
	}
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSkipsWithoutServer$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "PGTEST_CHILD_SKIP=1", EnvVar+"=", "PATH=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	for _, want := range []string{"--- SKIP: TestSkipsWithoutServer", skipMessage} {
		if !strings.Contains(string(out), want) {
			t.Errorf("child output lacks %q:\n%s", want, out)
		}
	}
}
