package store

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"lightbox/backend/testcorpus"
)

// checkCounts compares the stored counters with a recount from the rows.
func checkCounts(t *testing.T, s *Store) {
	t.Helper()
	var series []Series
	s.db.Find(&series)
	perStudy := map[uint]int{}
	seriesPerStudy := map[uint]int{}
	for _, se := range series {
		var n int64
		s.db.Model(&Instance{}).Where("series_ref = ?", se.ID).Count(&n)
		if int64(se.NumInstances) != n {
			t.Errorf("series %s: NumInstances %d, %d rows", se.SeriesInstanceUID, se.NumInstances, n)
		}
		perStudy[se.StudyRef] += int(n)
		seriesPerStudy[se.StudyRef]++
	}
	var studies []Study
	s.db.Find(&studies)
	for _, st := range studies {
		if st.NumInstances != perStudy[st.ID] || st.NumSeries != seriesPerStudy[st.ID] {
			t.Errorf("study %s: %d series %d instances; rows say %d and %d", st.StudyInstanceUID,
				st.NumSeries, st.NumInstances, seriesPerStudy[st.ID], perStudy[st.ID])
		}
	}
}

// TestGroupCommitDuplicatesInOneBatch: the same objects committed by many
// writers at once (so that one batch may hold the same SOP Instance UID
// twice) end as one Stored and the rest Duplicate, with exact counts.
func TestGroupCommitDuplicatesInOneBatch(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{Fsync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	files := ctFiles(t)
	mr, _ := filepath.Glob(filepath.Join(testcorpus.Dir(t), "images/mr/ele/*.dcm"))
	files = append(files, mr...)
	const copies = 6 // writers; each commits every file, in the same order
	var mu sync.Mutex
	outcomes := map[string]map[Outcome]int{}
	var wg sync.WaitGroup
	for w := 0; w < copies; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, f := range files {
				r, err := put(t, s, f, &Expect{ReplaceDifferent: true})
				if err != nil {
					t.Errorf("%s: %v", f, err)
					continue
				}
				mu.Lock()
				if outcomes[f] == nil {
					outcomes[f] = map[Outcome]int{}
				}
				outcomes[f][r.Outcome]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, f := range files {
		if o := outcomes[f]; o[Stored] != 1 || o[Duplicate] != copies-1 {
			t.Errorf("%s: outcomes %v, want 1 stored and %d duplicates", filepath.Base(f), o, copies-1)
		}
	}
	var n int64
	s.db.Model(&Instance{}).Count(&n)
	if int(n) != len(files) {
		t.Errorf("%d rows, want %d", n, len(files))
	}
	if c := countFiles(t, filepath.Join(dir, "objects")); c != len(files) {
		t.Errorf("%d files, want %d", c, len(files))
	}
	if c := countFiles(t, filepath.Join(dir, "tmp")); c != 0 {
		t.Errorf("%d temp files left", c)
	}
	checkCounts(t, s)
}

// TestCountsAfterDeleteAndReimport: the in-memory row IDs are forgotten
// when rows go, so objects of a deleted series are indexed again with
// exact counts (a stale cached series ID would lose them).
func TestCountsAfterDeleteAndReimport(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	files := ctFiles(t)
	for round := 0; round < 2; round++ {
		for _, f := range files {
			if r, err := put(t, s, f, nil); err != nil || r.Outcome != Stored {
				t.Fatalf("round %d %s: %v %v", round, f, r.Outcome, err)
			}
		}
		studies, err := s.Studies(ctx, StudyQuery{})
		if err != nil || len(studies) != 1 || studies[0].NumberOfInstances != len(files) || studies[0].NumberOfSeries != 1 ||
			len(studies[0].Modalities) != 1 || studies[0].Modalities[0] != "CT" {
			t.Fatalf("round %d: %+v %v", round, studies, err)
		}
		checkCounts(t, s)
		if err := s.DeleteStudy(ctx, studies[0].StudyInstanceUID); err != nil {
			t.Fatal(err)
		}
		if all, _ := s.Studies(ctx, StudyQuery{}); len(all) != 0 {
			t.Fatalf("round %d: %d studies after delete", round, len(all))
		}
	}
}

// TestMkdirsReportsParents: a new object directory is durable only once
// its parents are synced, so mkdirs names every parent it changed.
func TestMkdirsReportsParents(t *testing.T) {
	base := t.TempDir()
	s := &Store{dir: base}
	for _, c := range []struct {
		dir  string
		want []string
	}{
		{filepath.Join(base, "ab", "cd"), []string{filepath.Join(base, "ab"), base}},
		{filepath.Join(base, "ab", "ef"), []string{filepath.Join(base, "ab")}},
		{filepath.Join(base, "ab", "ef"), nil}, // known: nothing to sync
	} {
		got, err := s.mkdirs(c.dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(c.want) {
			t.Errorf("%s: %v, want %v", c.dir, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: %v, want %v", c.dir, got, c.want)
			}
		}
		if fi, err := os.Stat(c.dir); err != nil || !fi.IsDir() {
			t.Errorf("%s not created: %v", c.dir, err)
		}
	}
}
