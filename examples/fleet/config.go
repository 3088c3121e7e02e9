package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/emailsched/emailsched/internal/safefile"
	"github.com/emailsched/emailsched/internal/snippet"
	"github.com/emailsched/emailsched/scheduler/configfile"
)

// fleetConfig is the fleet file (-fleet): how a worker process works the
// queue and which organisations the fleet plans, with which settings.
type fleetConfig struct {
	// Workers is River's MaxWorkers for each worker process: how many
	// organisations one process plans at the same time.
	Workers int
	// MaxAttempts is how many times a job is tried before it fails for
	// good (a transient failure is retried until then).
	MaxAttempts int
	// RetryBase and RetryMax shape the backoff between attempts: the n-th
	// retry waits RetryBase·2^(n-1), at most RetryMax.
	RetryBase, RetryMax time.Duration
	// JobTimeout cancels a run that takes longer (it is then retried).
	JobTimeout time.Duration
	// RescueAfter is how long a job may stay running before the fleet
	// takes it for the job of a dead worker and runs it again.
	RescueAfter time.Duration
	// Include and Exclude select organisations by name (path.Match
	// globs); an empty Include means every organisation.
	Include, Exclude []string
	// Config and Rules are the scheduler configuration and rules of every
	// organisation (as the schedule command's -config and -rules), unless
	// PerOrganisation names others; "" means the defaults.
	Config, Rules string
	// PerOrganisation gives organisations their own configuration or
	// rules.
	PerOrganisation map[string]orgFiles
}

// orgFiles are the configuration and rules files of one organisation.
type orgFiles struct {
	Config, Rules string
}

// Defaults of the fleet file.
const (
	defaultWorkers     = 2
	defaultMaxAttempts = 5
	defaultRetryBase   = 30 * time.Second
	defaultRetryMax    = 30 * time.Minute
	defaultJobTimeout  = time.Hour
	defaultRescueAfter = 2 * time.Hour
)

// Limits of the fleet file: it is a few lines, and a hostile one must not
// exhaust a worker.
const (
	maxFleetFileSize = 256 << 10
	maxListLength    = 1000
	maxOrgEntries    = 10_000
	maxProblems      = 20
)

func defaultFleet() *fleetConfig {
	return &fleetConfig{Workers: defaultWorkers, MaxAttempts: defaultMaxAttempts, RetryBase: defaultRetryBase,
		RetryMax: defaultRetryMax, JobTimeout: defaultJobTimeout, RescueAfter: defaultRescueAfter}
}

// loadFleet reads the fleet file at path; "" gives the defaults. Relative
// paths in it are resolved against its directory.
func loadFleet(ctx context.Context, file string) (*fleetConfig, error) {
	if file == "" {
		return defaultFleet(), nil
	}
	data, err := safefile.Read(ctx, file, maxFleetFileSize)
	if err != nil {
		return nil, fmt.Errorf("fleet file: %w", err)
	}
	fc, err := parseFleet(file, data)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(file)
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	abs(&fc.Config)
	abs(&fc.Rules)
	for name, f := range fc.PerOrganisation {
		abs(&f.Config)
		abs(&f.Rules)
		fc.PerOrganisation[name] = f
	}
	return fc, nil
}

// fleetParser collects every problem of a fleet file, in the form of the
// scheduler's configuration files (configfile.Problems).
type fleetParser struct {
	name     string
	lines    []string
	problems configfile.Problems
	more     int
}

func (p *fleetParser) add(n *yaml.Node, key, format string, a ...any) {
	if len(p.problems) >= maxProblems {
		p.more++
		return
	}
	pr := &configfile.Problem{File: p.name, Line: n.Line, Column: n.Column, Key: key, Message: fmt.Sprintf(format, a...)}
	if pr.Line >= 1 && pr.Line <= len(p.lines) {
		pr.Snippet = snippet.Render(pr.Line, p.lines[pr.Line-1], pr.Column)
	}
	p.problems = append(p.problems, pr)
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseFleet parses a fleet file. Unknown and duplicate keys, values of
// the wrong type and values out of range are all reported, each with its
// line and column: the error is then configfile.Problems.
func parseFleet(name string, data []byte) (*fleetConfig, error) {
	p := &fleetParser{name: name, lines: strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")}
	fc := defaultFleet()
	if len(data) > maxFleetFileSize {
		p.add(&yaml.Node{}, "", "the file is %d bytes long, more than the %d a fleet file may have", len(data), maxFleetFileSize)
		return nil, p.problems
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	var doc yaml.Node
	switch err := dec.Decode(&doc); {
	case errors.Is(err, io.EOF):
		return fc, nil
	case err != nil:
		n := &yaml.Node{}
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
			n.Line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		p.add(n, "", "not valid YAML: %s", msg)
		return nil, p.problems
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		p.add(&more, "", "the file must hold one document, found a second one")
		return nil, p.problems
	}
	root := deref(doc.Content[0])
	switch {
	case root.Kind == yaml.MappingNode:
		p.top(root, fc)
	case root.ShortTag() != "!!null":
		p.add(root, "", "the file must be a mapping of keys to values (such as \"workers: 4\")")
	}
	if fc.RescueAfter <= fc.JobTimeout && len(p.problems) == 0 {
		p.add(root, "rescue_after", "rescue_after (%v) must be longer than job_timeout (%v): a job still running is not a dead worker's", fc.RescueAfter, fc.JobTimeout)
	}
	if fc.RetryMax < fc.RetryBase && len(p.problems) == 0 {
		p.add(root, "retry_max", "retry_max (%v) must not be shorter than retry_base (%v)", fc.RetryMax, fc.RetryBase)
	}
	if p.more > 0 {
		p.problems = append(p.problems, &configfile.Problem{File: name, Message: fmt.Sprintf("and %d more problems", p.more)})
	}
	if len(p.problems) > 0 {
		return nil, p.problems
	}
	return fc, nil
}

// deref follows aliases to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// entries walks the keys of mapping m, reporting duplicates and non-string
// keys; prefix is the dotted key of m ("" at the top).
func (p *fleetParser) entries(m *yaml.Node, prefix string, each func(key string, k, v *yaml.Node)) {
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], deref(m.Content[i+1])
		full := prefix + k.Value
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" && k.ShortTag() != "!!int" {
			p.add(k, prefix, "a key must be a name")
			continue
		}
		if first, dup := seen[k.Value]; dup {
			p.add(k, full, "duplicate key %q, first set on line %d", full, first.Line)
			continue
		}
		seen[k.Value] = k
		if v.ShortTag() == "!!null" {
			continue // an empty value means the default
		}
		each(k.Value, k, v)
	}
}

var topKeys = []string{"workers", "max_attempts", "retry_base", "retry_max", "job_timeout", "rescue_after",
	"organisations", "config", "rules", "per_organisation"}

func (p *fleetParser) top(m *yaml.Node, fc *fleetConfig) {
	p.entries(m, "", func(key string, k, v *yaml.Node) {
		switch key {
		case "workers":
			p.integer(v, key, 1, 1000, &fc.Workers)
		case "max_attempts":
			p.integer(v, key, 1, 100, &fc.MaxAttempts)
		case "retry_base":
			p.duration(v, key, 10*time.Millisecond, 24*time.Hour, &fc.RetryBase)
		case "retry_max":
			p.duration(v, key, 10*time.Millisecond, 7*24*time.Hour, &fc.RetryMax)
		case "job_timeout":
			p.duration(v, key, time.Second, 48*time.Hour, &fc.JobTimeout)
		case "rescue_after":
			p.duration(v, key, time.Second, 72*time.Hour, &fc.RescueAfter)
		case "config":
			p.text(v, key, &fc.Config)
		case "rules":
			p.text(v, key, &fc.Rules)
		case "organisations":
			if !p.isMapping(v, key) {
				return
			}
			p.entries(v, key+".", func(sub string, k, v *yaml.Node) {
				switch sub {
				case "include":
					fc.Include = p.globs(v, key+"."+sub)
				case "exclude":
					fc.Exclude = p.globs(v, key+"."+sub)
				default:
					p.add(k, key+"."+sub, "unknown key %q (organisations has include and exclude)", sub)
				}
			})
		case "per_organisation":
			if !p.isMapping(v, key) {
				return
			}
			if len(v.Content)/2 > maxOrgEntries {
				p.add(v, key, "per_organisation has %d entries, more than the %d allowed", len(v.Content)/2, maxOrgEntries)
				return
			}
			fc.PerOrganisation = map[string]orgFiles{}
			p.entries(v, key+".", func(org string, k, v *yaml.Node) {
				if !validOrgName(org) {
					p.add(k, key+"."+org, "%q is not an organisation name (letters, digits, '.', '_' and '-')", org)
					return
				}
				full := key + "." + org
				if !p.isMapping(v, full) {
					return
				}
				var f orgFiles
				p.entries(v, full+".", func(sub string, k, v *yaml.Node) {
					switch sub {
					case "config":
						p.text(v, full+"."+sub, &f.Config)
					case "rules":
						p.text(v, full+"."+sub, &f.Rules)
					default:
						p.add(k, full+"."+sub, "unknown key %q (an organisation has config and rules)", sub)
					}
				})
				fc.PerOrganisation[org] = f
			})
		default:
			p.add(k, key, "unknown key %q (the keys are %s)", key, strings.Join(topKeys, ", "))
		}
	})
}

func (p *fleetParser) isMapping(v *yaml.Node, key string) bool {
	if v.Kind != yaml.MappingNode {
		p.add(v, key, "%s must be a mapping, found %q", key, v.Value)
		return false
	}
	return true
}

func (p *fleetParser) integer(v *yaml.Node, key string, lo, hi int, dst *int) {
	n, err := strconv.Atoi(v.Value)
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" || err != nil || n < lo || n > hi {
		p.add(v, key, "%s must be an integer from %d to %d, found %q", key, lo, hi, v.Value)
		return
	}
	*dst = n
}

func (p *fleetParser) duration(v *yaml.Node, key string, lo, hi time.Duration, dst *time.Duration) {
	d, err := time.ParseDuration(v.Value)
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" || err != nil || d < lo || d > hi {
		p.add(v, key, "%s must be a duration such as 30s or 10m, from %v to %v, found %q", key, lo, hi, v.Value)
		return
	}
	*dst = d
}

func (p *fleetParser) text(v *yaml.Node, key string, dst *string) {
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" {
		p.add(v, key, "%s must be a path, found %q", key, v.Value)
		return
	}
	*dst = v.Value
}

func (p *fleetParser) globs(v *yaml.Node, key string) []string {
	var items []*yaml.Node
	switch {
	case v.Kind == yaml.SequenceNode:
		items = v.Content
	case v.Kind == yaml.ScalarNode:
		items = []*yaml.Node{v}
	default:
		p.add(v, key, "%s must be a list of names or globs", key)
		return nil
	}
	if len(items) > maxListLength {
		p.add(v, key, "%s has %d entries, more than the %d allowed", key, len(items), maxListLength)
		return nil
	}
	var out []string
	for _, it := range items {
		it = deref(it)
		if it.Kind != yaml.ScalarNode || it.ShortTag() != "!!str" && it.ShortTag() != "!!int" {
			p.add(it, key, "%s must hold names or globs such as org-0*", key)
			continue
		}
		if _, err := path.Match(it.Value, ""); err != nil {
			p.add(it, key, "%q is not a valid glob: %v", it.Value, err)
			continue
		}
		out = append(out, it.Value)
	}
	return out
}

// selects reports whether the fleet plans the organisation name.
func (fc *fleetConfig) selects(name string) bool {
	match := func(globs []string) bool {
		return slices.ContainsFunc(globs, func(g string) bool {
			ok, _ := path.Match(g, name) // checked when parsed
			return ok
		})
	}
	return (len(fc.Include) == 0 || match(fc.Include)) && !match(fc.Exclude)
}

// validOrgName reports whether name can name an organisation: a file name
// without directories, or a schema name.
var validOrgName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$`).MatchString
