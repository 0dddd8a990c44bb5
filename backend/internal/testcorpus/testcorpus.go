// Package testcorpus forwards to lightbox/backend/testcorpus (kept so that
// code written against the old internal path still builds).
package testcorpus

import (
	"testing"

	tc "lightbox/backend/testcorpus"
)

// Row is a manifest row.
type Row = tc.Row

// Dir returns the corpus directory or fails the test.
func Dir(t testing.TB) string { return tc.Dir(t) }

// Manifest reads manifest.tsv of the corpus.
func Manifest(t testing.TB) []Row { return tc.Manifest(t) }
