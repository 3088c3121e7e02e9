//go:build ignore

// Command zip_generate writes zip_table.go from the committed ZIP list; it
// is run by `go generate` (see zip.go).
package main

import (
	"log"

	"github.com/emailsched/emailsched/rules/internal/zipgen"
)

func main() {
	if err := zipgen.WriteFile("../testdata/zip/us-zip-states.csv", "zip_table.go"); err != nil {
		log.Fatal(err)
	}
}
