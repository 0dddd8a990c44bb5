package store

import (
	"os"
	"path/filepath"
	"testing"
)

// The store's folder and its objects folder are marked as tops of
// hierarchies (FS_TOPDIR_FL), so that ext4 spreads the object folders;
// file systems without the flag are left alone.
func TestOpenMarksTopDirs(t *testing.T) {
	probe := t.TempDir()
	MarkTop(probe)
	if ok, err := isTop(probe); err != nil || !ok {
		t.Skipf("the file system of %s keeps no FS_TOPDIR_FL (%v); Open leaves folders as they are there", probe, err)
	}
	dir := filepath.Join(t.TempDir(), "store")
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, d := range []string{dir, filepath.Join(dir, "objects")} {
		if ok, err := isTop(d); err != nil || !ok {
			t.Errorf("%s: top %v, %v", d, ok, err)
		}
	}
	// the flag is not inherited by the object folders themselves
	if ok, _ := isTop(filepath.Join(dir, "objects", "00")); ok {
		t.Error("objects/00 is marked too")
	}
	// an existing store folder is marked when opened again
	plain := filepath.Join(t.TempDir(), "old")
	if err := os.MkdirAll(filepath.Join(plain, "objects"), 0o755); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(plain, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if ok, _ := isTop(filepath.Join(plain, "objects")); !ok {
		t.Error("objects of an existing store not marked")
	}
}
