package configfile_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/emailsched/emailsched/internal/hostile"
	"github.com/emailsched/emailsched/scheduler/configfile"
)

// hostileConfigs are adversarial configurations, each just under the size
// limit, and one over it.
func hostileConfigs() []hostile.Input {
	in := hostile.Shapes("aep_dates: ", "[", "]", `"09-15", `, configfile.MaxFileSize-1)
	in = append(in, hostile.Shapes("timing: ", "{", "}", "a: 1, ", configfile.MaxFileSize-1)...)
	in = append(in,
		hostile.Input{Name: "20,000 aep_dates", Data: []byte("aep_dates: [" + strings.Repeat(`"09-15", `, 20000) + "]\n")},
		hostile.Input{Name: "duplicate keys", Data: bytes.Repeat([]byte("send_time: \"08:30\"\n"), configfile.MaxFileSize/20)},
		hostile.Input{Name: "a huge value", Data: []byte("send_time: \"" + strings.Repeat("9", configfile.MaxFileSize-20) + "\"\n")},
		hostile.Input{Name: "alias fan-out", Data: []byte("a: &a [" + strings.Repeat(`"09-15",`, 300) + "]\nb: &b [" +
			strings.Repeat("*a,", 5000) + "]\ntiming: *b\n")},
		hostile.Input{Name: "over the limit", Data: bytes.Repeat([]byte("#"), configfile.MaxFileSize+1)},
	)
	return in
}

// TestHostileConfigs: every adversarial configuration is refused within
// the bounds, with at most MaxProblems problems (and a count of the
// others) and snippets of bounded length.
func TestHostileConfigs(t *testing.T) {
	for _, in := range hostileConfigs() {
		var err error
		hostile.Bounded(t, in.Name, func() { _, err = configfile.Parse("hostile.yaml", in.Data) })
		var ps configfile.Problems
		if !errors.As(err, &ps) {
			t.Errorf("%s: %v, want Problems", in.Name, err)
			continue
		}
		if len(ps) > configfile.MaxProblems+1 || len(err.Error()) > 64<<10 {
			t.Errorf("%s: %d problems, %d bytes of message", in.Name, len(ps), len(err.Error()))
		}
	}
}

// FuzzParse: Parse never panics, and on any input of at most MaxFileSize
// bytes (the fuzzer's, and the adversarial shapes as seeds) stays within
// hostile.MaxAlloc and hostile.MaxTime, returning a File or Problems with
// lines inside the input.
func FuzzParse(f *testing.F) {
	for _, in := range hostileConfigs() {
		f.Add(in.Data)
	}
	f.Add([]byte("send_time: \"08:30\"\naep_dates: [\"09-15\", \"10-01\"]\ntiming:\n  birthday_days_before: 14\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var (
			file *configfile.File
			err  error
		)
		hostile.Bounded(t, "input", func() { file, err = configfile.Parse("fuzz.yaml", data) })
		if err == nil {
			if file == nil {
				t.Fatal("no file and no error")
			}
			return
		}
		var ps configfile.Problems
		if !errors.As(err, &ps) {
			t.Fatalf("error %T, not Problems: %v", err, err)
		}
		// A problem's line is one of the file's lines as YAML counts them
		// (\r, NEL, LS and PS are line breaks too, and a UTF-16 file is
		// decoded first): it has a snippet.
		for _, p := range ps {
			if p.Line < 0 || p.Message == "" || (p.Line > 0 && p.Snippet == "") {
				t.Fatalf("bad problem %+v", p)
			}
		}
		if len(ps) > configfile.MaxProblems+1 {
			t.Fatalf("%d problems", len(ps))
		}
	})
}
