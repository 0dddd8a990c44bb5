package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"lightbox/backend/testcorpus"
)

func put(t *testing.T, s *Store, path string, expect *Expect) (Result, error) {
	t.Helper()
	in, err := s.NewIncoming()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(in, f); err != nil {
		t.Fatal(err)
	}
	return in.Commit(context.Background(), "test", expect)
}

func ctFiles(t *testing.T) []string {
	files, _ := filepath.Glob(filepath.Join(testcorpus.Dir(t), "images/ct/ele/*.dcm"))
	if len(files) != 20 {
		t.Fatalf("%d CT files", len(files))
	}
	return files
}

func countFiles(t *testing.T, dir string) int {
	n := 0
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

func TestConcurrentWritersAndReaders(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{Fsync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var files []string
	for _, k := range []string{"ct/ele", "ct/rle", "mr/ele", "mr/jpeg-lossless"} {
		f, _ := filepath.Glob(filepath.Join(testcorpus.Dir(t), "images", k, "*.dcm"))
		files = append(files, f...)
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(files))
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(files); i += 8 {
				if _, err := put(t, s, files[i], nil); err != nil {
					errs <- fmt.Errorf("%s: %w", files[i], err)
				}
				if _, err := s.Studies(context.Background(), StudyQuery{}); err != nil {
					errs <- err
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	studies, _ := s.Studies(context.Background(), StudyQuery{})
	total := 0
	for _, st := range studies {
		total += st.NumberOfInstances
	}
	if len(studies) != 2 || total != len(files) {
		t.Fatalf("%d studies, %d instances; want 2 and %d", len(studies), total, len(files))
	}
	if n := countFiles(t, filepath.Join(dir, "objects")); n != len(files) {
		t.Errorf("%d files on disk, want %d", n, len(files))
	}
	if n := countFiles(t, filepath.Join(dir, "tmp")); n != 0 {
		t.Errorf("%d temp files left", n)
	}
}

func TestDuplicatesAndReplacement(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	files := ctFiles(t)
	if r, err := put(t, s, files[0], nil); err != nil || r.Outcome != Stored {
		t.Fatalf("first: %v %v", r.Outcome, err)
	}
	if r, err := put(t, s, files[0], &Expect{ReplaceDifferent: true}); err != nil || r.Outcome != Duplicate {
		t.Fatalf("same bytes: %v %v", r.Outcome, err)
	}
	// Same SOP Instance UID, different bytes (slice 1 with another preamble).
	rle := filepath.Join(testcorpus.Dir(t), "malformed/ok_garbage_preamble.dcm")
	if r, err := put(t, s, rle, nil); err != nil || r.Outcome != Duplicate {
		t.Fatalf("import of a different object with a stored UID: %v %v (want the stored one kept)", r.Outcome, err)
	}
	r, err := put(t, s, rle, &Expect{ReplaceDifferent: true})
	if err != nil || r.Outcome != Replaced {
		t.Fatalf("SCP policy: %v %v", r.Outcome, err)
	}
	in, _ := s.InstanceByUID(context.Background(), r.SOPInstanceUID)
	got, _ := os.ReadFile(s.ObjectPath(in))
	want, _ := os.ReadFile(rle)
	if string(got) != string(want) {
		t.Errorf("the stored file is not the replacement")
	}
	// Declared UIDs that disagree with the data set.
	_, err = put(t, s, files[1], &Expect{SOPInstanceUID: "1.2.3"})
	if !errors.Is(err, ErrMismatch) {
		t.Errorf("mismatch: %v", err)
	}
}

func TestReconcileAfterCrash(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	files := ctFiles(t)
	for _, f := range files[:5] {
		if _, err := put(t, s, f, nil); err != nil {
			t.Fatal(err)
		}
	}
	// A crash leaves: a half-written temp file, a file renamed into place but
	// never indexed, and a row whose file is gone.
	os.WriteFile(filepath.Join(dir, "tmp", "in-123.part"), []byte("half"), 0o644)
	b, _ := os.ReadFile(files[7])
	os.WriteFile(filepath.Join(dir, "objects", "stray.dcm"), b, 0o644)
	var gone Instance
	s.DB().Order("id").First(&gone)
	os.Remove(s.ObjectPath(&gone))
	s.Close()

	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := countFiles(t, filepath.Join(dir, "tmp")); n != 0 {
		t.Errorf("temp files left: %d", n)
	}
	var rows []Instance
	s.db.Find(&rows)
	if len(rows) != 5 { // 5 - 1 missing + 1 recovered
		t.Errorf("%d rows after reconcile, want 5", len(rows))
	}
	for _, r := range rows {
		if _, err := os.Stat(s.ObjectPath(&r)); err != nil {
			t.Errorf("row without file: %v", err)
		}
	}
	if n := countFiles(t, filepath.Join(dir, "objects")); n != 5 {
		t.Errorf("%d files, want 5", n)
	}
	studies, _ := s.Studies(context.Background(), StudyQuery{})
	if len(studies) != 1 || studies[0].NumberOfInstances != 5 {
		t.Errorf("studies after reconcile: %+v", studies)
	}
}

func TestDeleteSeriesRemovesFilesAndRows(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir, Options{})
	defer s.Close()
	for _, f := range ctFiles(t) {
		put(t, s, f, nil)
	}
	mr, _ := filepath.Glob(filepath.Join(testcorpus.Dir(t), "images/mr/ele/*.dcm"))
	for _, f := range mr {
		put(t, s, f, nil)
	}
	studies, _ := s.Studies(context.Background(), StudyQuery{Modality: "CT"})
	if len(studies) != 1 {
		t.Fatalf("%d CT studies", len(studies))
	}
	if err := s.DeleteStudy(context.Background(), studies[0].StudyInstanceUID); err != nil {
		t.Fatal(err)
	}
	if n := countFiles(t, filepath.Join(dir, "objects")); n != len(mr) {
		t.Errorf("%d files left, want %d", n, len(mr))
	}
	all, _ := s.Studies(context.Background(), StudyQuery{})
	if len(all) != 1 || all[0].Modalities[0] != "MR" {
		t.Errorf("left: %+v", all)
	}
	if err := s.DeleteStudy(context.Background(), "no.such"); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete unknown: %v", err)
	}
}

func TestStudyQueryFilters(t *testing.T) {
	s, _ := Open(t.TempDir(), Options{})
	defer s.Close()
	for _, k := range []string{"ct/ele/ct_ele_01.dcm", "mr/ele/mr_ele_01.dcm", "cr/cr_ele.dcm"} {
		if _, err := put(t, s, filepath.Join(testcorpus.Dir(t), "images", k), nil); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	for _, c := range []struct {
		q    StudyQuery
		want int
	}{
		{StudyQuery{}, 3},
		{StudyQuery{PatientName: "phantom^?r"}, 2},
		{StudyQuery{PatientName: "*MR"}, 1},
		{StudyQuery{Modality: "cr"}, 1},
		{StudyQuery{PatientID: "PHANTOM-C*"}, 2},
		{StudyQuery{DateFrom: "20240101", DateTo: "20241231"}, 3},
		{StudyQuery{DateFrom: "20250101"}, 0},
		{StudyQuery{Limit: 2}, 2},
		{StudyQuery{Offset: 2}, 1},
	} {
		got, err := s.Studies(ctx, c.q)
		if err != nil || len(got) != c.want {
			t.Errorf("%+v: %d studies (%v), want %d", c.q, len(got), err, c.want)
		}
	}
}
