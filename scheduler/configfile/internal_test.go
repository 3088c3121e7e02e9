package configfile

import (
	"context"
	"flag"
	"os"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/dsl"
)

var update = flag.Bool("update", false, "rewrite testdata/scheduler.yaml")

// TestSampleListsEverySchemaKey: testdata/scheduler.yaml documents every key
// of the schema, and nothing else, and is exactly what Reference writes
// (refreshed with -update).
func TestSampleListsEverySchemaKey(t *testing.T) {
	const path = "../../testdata/scheduler.yaml"
	if *update {
		if err := os.WriteFile(path, Reference(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(Reference()), string(data)); diff != "" {
		t.Errorf("%s is not what Reference writes (-Reference +file; refresh with -update):\n%s", path, diff)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var got []string
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i].Value, n.Content[i+1]
			if v.Kind == yaml.MappingNode {
				walk(v, prefix+k+".")
				continue
			}
			got = append(got, prefix+k)
		}
	}
	walk(doc.Content[0], "")
	var want []string
	for _, fd := range schema {
		want = append(want, fd.Key)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("keys of the sample file (-schema +file):\n%s", diff)
	}
}

func TestKeysIn(t *testing.T) {
	if got, want := keysIn("priorities."), []string{"birthday", "effective_date", "aep", "post_window"}; !slices.Equal(got, want) {
		t.Errorf("keysIn(priorities.) = %v, want %v", got, want)
	}
	if isSection("send_time") || !isSection("backup") {
		t.Error("isSection")
	}
}

// TestBufferOverride: the default rules with another buffer move the start
// of every exclusion period and nothing else, conditional rules included.
func TestBufferOverride(t *testing.T) {
	buf := 20
	set, err := (&File{PreWindowBuffer: &buf}).LoadRules(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	def := dsl.Default()
	for _, st := range emailsched.States() {
		r1, _, o1 := def.Describe(st)
		r2, _, o2 := set.Describe(st)
		if !r1.Equal(r2) || o1 != o2 {
			t.Errorf("%s: rule %v at %s, want %v at %s", st, r2, o2, r1, o1)
		}
	}
	c := &emailsched.Contact{ID: 1, Birthday: datecalc.MustNew(1950, 12, 1)}
	today := datecalc.MustNew(2024, 6, 1)
	// CA birthday Dec 1: excluded from Dec 1 - 30 days - 20 days buffer.
	for _, tc := range []struct {
		day      datecalc.Date
		excluded bool
	}{{datecalc.MustNew(2024, 10, 12), true}, {datecalc.MustNew(2024, 10, 11), false}} {
		ap := set.Apply(c, emailsched.MustState("CA"), today)
		if _, ex := ap.Excluded(tc.day); ex != tc.excluded {
			t.Errorf("%s excluded = %v, want %v", tc.day, ex, tc.excluded)
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/fl.rules", []byte("pre_window_buffer: 90\nFL: contact.age >= 76 ? year_round() : birthday_window(0, 10)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err = (&File{Rules: dir, PreWindowBuffer: &buf}).LoadRules(context.Background())
	if err != nil || set.Buffer() != 20 {
		t.Errorf("conditional rules with a buffer: %v, %v", set, err)
	}
}
