package importer

import (
	"archive/zip"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"lightbox/backend/store"
	"lightbox/backend/testcorpus"
)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestImportCorpus imports the whole corpus and compares the store with the
// manifest: every expect=ok object is there, every expect=error file is
// reported as failed, and a second import adds nothing.
func TestImportCorpus(t *testing.T) {
	dir := testcorpus.Dir(t)
	rows := testcorpus.Manifest(t)
	st := openStore(t)
	ctx := context.Background()
	sum := Run(ctx, st, []string{dir}, Options{Skipped: func(item, reason string) { t.Logf("skipped %s: %s", item, reason) }})
	for _, f := range sum.Failed {
		t.Logf("failed %s: %s", f.Item, f.Reason)
	}
	failed := map[string]string{}
	for _, f := range sum.Failed {
		rel, _ := filepath.Rel(dir, f.Item)
		failed[rel] = f.Reason
	}
	wantStudies := map[string]map[string]bool{} // study -> sop UIDs
	for _, r := range rows {
		switch r["expect"] {
		case "ok":
			if r["study_uid"] == "-" {
				continue
			}
			if reason, bad := failed[r["path"]]; bad {
				t.Errorf("%s: expect=ok but failed: %s", r["path"], reason)
			}
			if wantStudies[r["study_uid"]] == nil {
				wantStudies[r["study_uid"]] = map[string]bool{}
			}
			wantStudies[r["study_uid"]][r["sop_uid"]] = true
		case "error":
			if _, bad := failed[r["path"]]; !bad {
				t.Errorf("%s: expect=error but was imported", r["path"])
			}
		}
	}
	studies, err := st.Studies(ctx, store.StudyQuery{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, s := range studies {
		got[s.StudyInstanceUID] = s.NumberOfInstances
	}
	sopStudies := map[string]map[string]bool{}
	for _, r := range rows {
		if r["expect"] == "ok" && r["sop_uid"] != "-" {
			if sopStudies[r["sop_uid"]] == nil {
				sopStudies[r["sop_uid"]] = map[string]bool{}
			}
			sopStudies[r["sop_uid"]][r["study_uid"]] = true
		}
	}
	exact := 0
	for uid, sops := range wantStudies {
		if _, ok := got[uid]; !ok {
			t.Errorf("study %q missing", uid)
			continue
		}
		shared := uid == "" // objects without a Study Instance UID are grouped together
		for sop := range sops {
			shared = shared || len(sopStudies[sop]) > 1
		}
		if shared {
			continue // pydicom's test files reuse SOP Instance UIDs across studies: the first one imported is kept
		}
		exact++
		if got[uid] != len(sops) {
			t.Errorf("study %s: %d instances, manifest has %d", uid, got[uid], len(sops))
		}
	}
	if exact < 40 {
		t.Errorf("only %d studies compared exactly", exact)
	}
	t.Logf("first import: %d imported, %d duplicates, %d skipped, %d failed; %d studies (manifest ok: %d)",
		sum.Imported, sum.Duplicates, sum.Skipped, len(sum.Failed), len(studies), len(wantStudies))
	if sum.Imported < 500 {
		t.Fatalf("only %d imported", sum.Imported)
	}

	again := Run(ctx, st, []string{dir}, Options{})
	if again.Imported != 0 {
		t.Errorf("second import stored %d new objects, want 0", again.Imported)
	}
	if again.Duplicates < sum.Imported-10 {
		t.Errorf("second import: %d duplicates, want about %d", again.Duplicates, sum.Imported)
	}
	studies2, _ := st.Studies(ctx, store.StudyQuery{})
	if len(studies2) != len(studies) {
		t.Errorf("second import changed the study count: %d -> %d", len(studies), len(studies2))
	}
}

func TestImportZipAndCancel(t *testing.T) {
	dir := testcorpus.Dir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "images/ct/ele/*.dcm"))
	zpath := filepath.Join(t.TempDir(), "ct.zip")
	zf, _ := os.Create(zpath)
	zw := zip.NewWriter(zf)
	for _, f := range files {
		w, _ := zw.Create("study/" + filepath.Base(f))
		r, _ := os.Open(f)
		io.Copy(w, r)
		r.Close()
	}
	w, _ := zw.Create("readme.txt")
	w.Write([]byte("not dicom"))
	zw.Close()
	zf.Close()
	st := openStore(t)
	sum := Run(context.Background(), st, []string{zpath}, Options{})
	if sum.Imported != len(files) || sum.Skipped != 1 || len(sum.Failed) != 0 {
		t.Fatalf("zip: %+v, want %d imported and 1 skipped", sum, len(files))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	st2 := openStore(t)
	sum = Run(ctx, st2, []string{filepath.Join(dir, "images")}, Options{})
	if !sum.Cancelled || sum.Imported != 0 {
		t.Fatalf("cancelled import: %+v", sum)
	}
}

func TestImportDICOMDIR(t *testing.T) {
	if _, err := exec.LookPath("dcmmkdir"); err != nil {
		t.Fatal("dcmmkdir (dcmtk) is required")
	}
	dir := testcorpus.Dir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "images/ct/ele/*.dcm"))
	media := t.TempDir()
	os.Mkdir(filepath.Join(media, "IMAGES"), 0o755)
	var names []string
	for i, f := range files[:5] {
		name := filepath.Join("IMAGES", "IM"+strings.Repeat("0", 5)+string(rune('0'+i)))
		b, _ := os.ReadFile(f)
		os.WriteFile(filepath.Join(media, name), b, 0o644)
		names = append(names, name)
	}
	cmd := exec.Command("dcmmkdir", append([]string{"+I", "+r", "-Pgp", "--output-file", "DICOMDIR"}, names...)...)
	cmd.Dir = media
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dcmmkdir: %v\n%s", err, out)
	}
	st := openStore(t)
	sum := Run(context.Background(), st, []string{filepath.Join(media, "DICOMDIR")}, Options{})
	if sum.Imported != 5 || len(sum.Failed) != 0 {
		t.Fatalf("DICOMDIR import: %+v", sum)
	}
}
