package configfile

import (
	"fmt"
	"strconv"
	"strings"
)

// referenceHeader opens the reference file.
const referenceHeader = `Configuration of the emailsched scheduler (package scheduler/configfile,
command examples/schedule).

Every key is listed here with its default value: this file configures
exactly what an empty file does. Every key is optional, and a key with an
empty (null) value also means its default. JSON is accepted too (JSON is
YAML). Unknown keys, values of the wrong type and values out of range are
refused, each with its file:line:column and the allowed range.

Relative paths (database, rules, backup.dir) are relative to the directory
of this file.

This file is generated from the declarations of the parameters
(scheduler.Params and this package's own keys): go test ./scheduler/configfile -update.`

// Reference returns the reference configuration file: every key with its
// default, its allowed values and what it means, in YAML.
// testdata/scheduler.yaml is this text.
func Reference() []byte {
	var b strings.Builder
	comment(&b, "", referenceHeader)
	section := ""
	f := Defaults()
	for _, fd := range schema {
		sec, name, inSection := strings.Cut(fd.Key, ".")
		if !inSection {
			name, sec = fd.Key, ""
		}
		if sec != section {
			section = sec
			if sec != "" {
				b.WriteString("\n")
				comment(&b, "", sections[sec])
				b.WriteString(sec + ":\n")
			}
		}
		indent := ""
		if sec != "" {
			indent = "  "
		} else {
			b.WriteString("\n")
		}
		comment(&b, indent, fd.Doc+" "+allowed(fd))
		fmt.Fprintf(&b, "%s%s: %s\n", indent, name, yamlValue(fd.get(f)))
	}
	return []byte(b.String())
}

// allowed says what values a key takes, as a sentence.
func allowed(fd field) string {
	if fd.isString {
		return "A path."
	}
	s := "Allowed: " + fd.Range()
	if fd.Default == nil {
		s += ", or null"
	}
	return s + "."
}

// comment writes text as "# " lines of at most 78 columns; a blank line
// separates paragraphs.
func comment(b *strings.Builder, indent, text string) {
	for i, para := range strings.Split(text, "\n\n") {
		if i > 0 {
			b.WriteString(indent + "#\n")
		}
		line := indent + "#"
		for _, w := range strings.Fields(para) {
			if len(line)+1+len(w) > 78 && line != indent+"#" {
				b.WriteString(line + "\n")
				line = indent + "#"
			}
			line += " " + w
		}
		b.WriteString(line + "\n")
	}
}

// yamlValue writes a default as YAML.
func yamlValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(x)
	case []string:
		q := make([]string, len(x))
		for i, s := range x {
			q[i] = strconv.Quote(s)
		}
		return "[" + strings.Join(q, ", ") + "]"
	case float64:
		return num(x)
	}
	return fmt.Sprint(v)
}
