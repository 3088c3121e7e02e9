package emailsched_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The repository's documents must stand on their own: a rule is stated
// where it is implemented, and no comment, Markdown file, rules file,
// schema or configuration refers to a specification that is not shipped.
// The pattern is assembled so that this file does not match it.
var outsideReference = regexp.MustCompile(`\b` + "SP" + `EC\b|` + "DE" + `SIGN\.md|\x{00a7}|\.\./shared/`)

func TestDocsStandOnTheirOwn(t *testing.T) {
	checked := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			// Fuzz corpora are inputs, not documents; hidden directories
			// (.git) are not ours to check.
			if path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "fuzz") {
				return filepath.SkipDir
			}
			return nil
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".go", ".md", ".rules", ".sql", ".yaml", ".yml", ".txt":
		default:
			if d.Name() != "LICENSE" {
				return nil
			}
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		checked++
		for i, line := range bytes.Split(data, []byte("\n")) {
			if loc := outsideReference.FindIndex(line); loc != nil {
				t.Errorf("%s:%d: refers to a document outside the repository (%q): state the rule here or point to the package that implements it",
					path, i+1, line[loc[0]:loc[1]])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 100 {
		t.Fatalf("checked only %d files: is the test running from the repository root?", checked)
	}
}

// The README's minimal sink is the tested example, word for word, so that
// what an integrator copies compiles and does what the README shows.
func TestReadmeSinkIsTheExample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("store/sink_example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	start := bytes.Index(readme, []byte("```go\ntype printSink struct"))
	if start < 0 {
		t.Fatal("README.md has no minimal sink (a Go block starting with type printSink)")
	}
	block := readme[start+len("```go\n"):]
	block = block[:bytes.Index(block, []byte("```"))]
	if !bytes.Contains(example, block) {
		t.Errorf("README.md's minimal sink differs from store/sink_example_test.go:\n%s", block)
	}
	out := []byte("insert contact 1 2025-04-17 birthday pre-scheduled\ninsert contact 1 2025-09-15 aep pre-scheduled\nrun-1: 1 contacts, 2 rows written\n")
	if !bytes.Contains(readme, out) || !bytes.Contains(example, []byte("// insert contact 1 2025-04-17 birthday pre-scheduled")) {
		t.Error("README.md's output of the minimal sink is not the example's")
	}
}

// The README states the Go release once, and it is go.mod's.
func TestReadmeGoVersion(t *testing.T) {
	mod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	mentions := regexp.MustCompile(`\bGo 1\.[0-9.]+`).FindAll(readme, -1)
	if want := "Go " + string(m[1]); len(mentions) != 1 || string(mentions[0]) != want {
		t.Errorf("README.md names the Go release as %q; want %q once (go.mod)", mentions, want)
	}
}
