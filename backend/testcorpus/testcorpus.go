// Package testcorpus locates the test corpus built by
// shared/testdata/make-corpus.sh and reads its manifest. Tests only.
package testcorpus

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Row is one line of manifest.tsv, keyed by column name, plus "abspath".
type Row map[string]string

// Dir returns the corpus directory (env LIGHTBOX_CORPUS, else
// ~/.cache/lightbox/corpus) or fails the test.
func Dir(t testing.TB) string {
	t.Helper()
	d := os.Getenv("LIGHTBOX_CORPUS")
	if d == "" {
		home, _ := os.UserHomeDir()
		d = filepath.Join(home, ".cache", "lightbox", "corpus")
	}
	if _, err := os.Stat(filepath.Join(d, "manifest.tsv")); err != nil {
		t.Fatalf("corpus missing: run make corpus (%v)", err)
	}
	return d
}

// Manifest reads manifest.tsv of the corpus.
func Manifest(t testing.TB) []Row {
	t.Helper()
	dir := Dir(t)
	f, err := os.Open(filepath.Join(dir, "manifest.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	var cols []string
	var rows []Row
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if cols == nil {
			cols = fields
			continue
		}
		r := Row{}
		for i, c := range cols {
			if i < len(fields) {
				r[c] = fields[i]
			}
		}
		r["abspath"] = filepath.Join(dir, r["path"])
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}
