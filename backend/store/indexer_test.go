package store

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"lightbox/backend/dcm"
	"lightbox/backend/testcorpus"
)

// mustOpen opens a store closed at the end of the test.
func mustOpen(t *testing.T, dir string, opt Options) *Store {
	t.Helper()
	s, err := Open(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// holdIndexer stops (true) or resumes (false) the background indexer.
func holdIndexer(s *Store, on bool) {
	s.idx.mu.Lock()
	s.idx.hold = on
	s.idx.changed.Broadcast()
	s.idx.mu.Unlock()
}

// rowCount counts instance rows without waiting for the indexer.
func rowCount(s *Store) int {
	var n int64
	s.db.Model(&Instance{}).Count(&n)
	return int(n)
}

// TestPendingDuplicatesAndReplacements: while the rows of an object are not
// written yet, the same object again is a duplicate, a different one with
// its SOP Instance UID replaces it (with ReplaceDifferent) or is refused
// (without), and once indexed there is one row, naming the last file.
func TestPendingDuplicatesAndReplacements(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, Options{Fsync: true})
	files := ctFiles(t)
	other := filepath.Join(testcorpus.Dir(t), "malformed/ok_garbage_preamble.dcm") // same SOP Instance UID as files[0]
	holdIndexer(s, true)
	for i, c := range []struct {
		path   string
		expect *Expect
		want   Outcome
	}{
		{files[0], nil, Stored},
		{files[0], nil, Duplicate},
		{other, nil, Duplicate}, // import keeps the stored object
		{other, &Expect{ReplaceDifferent: true}, Replaced},
		{other, &Expect{ReplaceDifferent: true}, Duplicate},
		{files[1], nil, Stored},
	} {
		r, err := put(t, s, c.path, c.expect)
		if err != nil || r.Outcome != c.want {
			t.Fatalf("%d %s: %v %v, want %v", i, filepath.Base(c.path), r.Outcome, err, c.want)
		}
	}
	if n := rowCount(s); n != 0 {
		t.Fatalf("%d rows written while the indexer is held", n)
	}
	holdIndexer(s, false)
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := rowCount(s); n != 2 {
		t.Errorf("%d rows, want 2", n)
	}
	if n := countFiles(t, filepath.Join(dir, "objects")); n != 2 {
		t.Errorf("%d files, want 2", n)
	}
	r, _ := put(t, s, other, nil)
	in, err := s.InstanceByUID(context.Background(), r.SOPInstanceUID)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(s.ObjectPath(in))
	want, _ := os.ReadFile(other)
	if string(got) != string(want) || r.Outcome != Duplicate {
		t.Errorf("outcome %v; the stored file is the replacement: %v", r.Outcome, string(got) == string(want))
	}
	checkCounts(t, s)
}

// TestFlushHonoursContext: a Flush that cannot finish (indexer held) ends
// with the context's error.
func TestFlushHonoursContext(t *testing.T) {
	s := mustOpen(t, t.TempDir(), Options{})
	holdIndexer(s, true)
	if _, err := put(t, s, ctFiles(t)[0], nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Flush(ctx); err != context.DeadlineExceeded {
		t.Errorf("Flush: %v, want %v", err, context.DeadlineExceeded)
	}
	holdIndexer(s, false)
	if err := s.Flush(context.Background()); err != nil || rowCount(s) != 1 {
		t.Errorf("Flush: %v, %d rows", err, rowCount(s))
	}
}

// The child process of TestKillBeforeIndexing: commits the CT files with
// the indexer held, says how many, and waits to be killed.
func TestIndexCrashChild(t *testing.T) {
	dir := os.Getenv("LBX_STORE_CRASH_CHILD")
	if dir == "" {
		t.Skip("the child process of TestKillBeforeIndexing: runs only when that test starts it with LBX_STORE_CRASH_CHILD set")
	}
	s, err := Open(dir, Options{Fsync: true})
	if err != nil {
		t.Fatal(err)
	}
	holdIndexer(s, true)
	n := 0
	for _, f := range ctFiles(t) {
		if _, err := put(t, s, f, nil); err != nil {
			t.Fatal(err)
		}
		n++
	}
	fmt.Printf("committed %d rows %d\n", n, rowCount(s))
	time.Sleep(time.Minute)
}

// TestKillBeforeIndexing: objects acknowledged (Commit returned) whose rows
// were never written, because the process was killed (kill -9), are all
// indexed by the next Open, with their files intact and counts right.
func TestKillBeforeIndexing(t *testing.T) {
	dir := t.TempDir()
	child := exec.Command(os.Args[0], "-test.run=^TestIndexCrashChild$")
	child.Env = append(os.Environ(), "LBX_STORE_CRASH_CHILD="+dir)
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer child.Process.Kill()
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "committed ") {
				line <- sc.Text()
				return
			}
		}
		close(line)
	}()
	var committed, rows int
	select {
	case l, ok := <-line:
		if !ok {
			t.Fatal("the child ended without committing")
		}
		f := strings.Fields(l)
		committed, _ = strconv.Atoi(f[1])
		rows, _ = strconv.Atoi(f[3])
	case <-time.After(30 * time.Second):
		t.Fatal("the child did not commit in time")
	}
	child.Process.Kill() // SIGKILL
	child.Wait()
	files := ctFiles(t)
	if committed != len(files) || rows != 0 {
		t.Fatalf("child committed %d with %d rows; want %d with 0", committed, rows, len(files))
	}
	if n := countFiles(t, filepath.Join(dir, "objects")); n != committed {
		t.Fatalf("%d files after the kill, want %d", n, committed)
	}
	s := mustOpen(t, dir, Options{Fsync: true})
	if n := rowCount(s); n != committed {
		t.Errorf("%d rows after reopening, want %d", n, committed)
	}
	for _, f := range files {
		want, _ := os.ReadFile(f)
		r, err := put(t, s, f, nil)
		if err != nil || r.Outcome != Duplicate {
			t.Errorf("%s again: %v %v, want duplicate", filepath.Base(f), r.Outcome, err)
		}
		in, err := s.InstanceByUID(context.Background(), r.SOPInstanceUID)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(s.ObjectPath(in))
		if string(got) != string(want) {
			t.Errorf("%s: stored bytes differ", filepath.Base(f))
		}
	}
	checkCounts(t, s)
}

// TestCommitAll: one batch holding new objects, the same object twice, a
// different object with a stored SOP Instance UID and a file that is not
// DICOM: each gets its own outcome, and the good ones are stored once.
func TestCommitAll(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, Options{Fsync: true})
	files := ctFiles(t)
	other := filepath.Join(testcorpus.Dir(t), "malformed/ok_garbage_preamble.dcm") // same SOP Instance UID as files[0]
	junk := filepath.Join(t.TempDir(), "junk.txt")
	os.WriteFile(junk, []byte("not a DICOM file at all, just text"), 0o644)
	if r, err := put(t, s, files[0], nil); err != nil || r.Outcome != Stored {
		t.Fatalf("first: %v %v", r.Outcome, err)
	}
	cases := []struct {
		path    string
		want    Outcome
		wantErr bool
	}{
		{files[1], Stored, false},
		{files[2], Stored, false},
		{files[1], Duplicate, false},
		{other, Duplicate, false}, // without ReplaceDifferent the stored object stays
		{junk, 0, true},
		{files[3], Stored, false},
	}
	var items []Pending
	for _, c := range cases {
		in, err := s.NewIncoming()
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := in.ReadFrom(f); err != nil {
			t.Fatal(err)
		}
		f.Close()
		items = append(items, Pending{In: in, Source: "batch"})
	}
	got := s.CommitAll(context.Background(), items)
	for i, c := range cases {
		if (got[i].Err != nil) != c.wantErr || (!c.wantErr && got[i].Result.Outcome != c.want) {
			t.Errorf("%d %s: %v %v, want %v (error %v)", i, filepath.Base(c.path), got[i].Result.Outcome, got[i].Err, c.want, c.wantErr)
		}
	}
	if n := len(instanceRows(t, s)); n != 4 {
		t.Errorf("%d rows, want 4", n)
	}
	if n := countFiles(t, filepath.Join(dir, "objects")); n != 4 {
		t.Errorf("%d files, want 4", n)
	}
	if n := countFiles(t, filepath.Join(dir, "tmp")); n != 0 {
		t.Errorf("%d temp files left", n)
	}
	checkCounts(t, s)
}

func instanceRows(t *testing.T, s *Store) []Instance {
	var rows []Instance
	if err := s.DB().Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestCount: study and series totals match the rows, right after commits.
func TestCount(t *testing.T) {
	s := mustOpen(t, t.TempDir(), Options{})
	files := ctFiles(t)
	var size int64
	var res Result
	for _, f := range files[:7] {
		r, err := put(t, s, f, nil)
		if err != nil {
			t.Fatal(err)
		}
		res = r
		size += r.Size
	}
	for _, c := range []struct {
		study, series string
		want          Totals
	}{
		{res.StudyInstanceUID, "", Totals{7, size}},
		{res.StudyInstanceUID, res.SeriesInstanceUID, Totals{7, size}},
		{res.StudyInstanceUID, "1.2.3.4", Totals{}},
		{"1.2.3", "", Totals{}},
	} {
		got, err := s.Count(context.Background(), c.study, c.series)
		if err != nil || got != c.want {
			t.Errorf("Count(%s, %s) = %+v, %v; want %+v", c.study, c.series, got, err, c.want)
		}
	}
}

// TestCommitIndexed: with Expect.Indexed, Commit returns only once the
// object's row is committed (read here without the read barrier). A held indexer makes such a Commit wait, then fail with its
// context; the object itself stays stored and is indexed later.
func TestCommitIndexed(t *testing.T) {
	s := mustOpen(t, t.TempDir(), Options{Fsync: true})
	files := ctFiles(t)
	for i, f := range files[:10] {
		if _, err := put(t, s, f, &Expect{Indexed: true}); err != nil {
			t.Fatal(err)
		}
		if n := rowCount(s); n != i+1 {
			t.Fatalf("after Commit %d: %d rows", i+1, n)
		}
	}
	holdIndexer(s, true)
	in, err := s.NewIncoming()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(files[10])
	in.Write(b)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := in.Commit(ctx, "test", &Expect{Indexed: true}); err == nil || !strings.Contains(err.Error(), "index not yet written") {
		t.Fatalf("Commit with the indexer held: %v", err)
	}
	if n := rowCount(s); n != 10 {
		t.Fatalf("%d rows while held", n)
	}
	holdIndexer(s, false)
	if err := s.Flush(context.Background()); err != nil || rowCount(s) != 11 {
		t.Errorf("after release: %v, %d rows", err, rowCount(s))
	}
}

// TestBatchSharesOneDirectory: the new objects of one CommitAll batch go
// into one directory (one directory sync for the batch); each file is the
// object byte for byte under its row's path, and a reopen (reconcile)
// keeps them all where they are.
func TestBatchSharesOneDirectory(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{Fsync: true})
	if err != nil {
		t.Fatal(err)
	}
	files := ctFiles(t)[:12]
	var items []Pending
	for _, p := range files {
		in, err := s.NewIncoming()
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		in.ReadFrom(f)
		f.Close()
		items = append(items, Pending{In: in, Source: "batch"})
	}
	for i, c := range s.CommitAll(context.Background(), items) {
		if c.Err != nil || c.Result.Outcome != Stored {
			t.Fatalf("%d: %v %v", i, c.Result.Outcome, c.Err)
		}
	}
	check := func(s *Store) {
		t.Helper()
		dirs := map[string]bool{}
		for _, p := range files {
			in, err := s.InstanceByUID(context.Background(), sopOf(t, p))
			if err != nil {
				t.Fatal(err)
			}
			dirs[filepath.Dir(in.Path)] = true
			if filepath.Base(in.Path) != filepath.Base(objectPath(in.SOPInstanceUID)) {
				t.Errorf("file name %s is not the hash of its UID", in.Path)
			}
			got, _ := os.ReadFile(s.ObjectPath(in))
			want, _ := os.ReadFile(p)
			if string(got) != string(want) {
				t.Errorf("%s: stored bytes differ", in.Path)
			}
		}
		if len(dirs) != 1 {
			t.Errorf("one batch in %d directories: %v", len(dirs), dirs)
		}
	}
	check(s)
	s.Close()
	s = mustOpen(t, dir, Options{Fsync: true})
	check(s)
	if n := countFiles(t, filepath.Join(dir, "objects")); n != len(files) || rowCount(s) != len(files) {
		t.Errorf("after reopen: %d files, %d rows", n, rowCount(s))
	}
}

// sopOf reads a file's SOP Instance UID.
func sopOf(t *testing.T, path string) string {
	t.Helper()
	f, err := dcm.ParseFile(path, dcm.Options{StopBeforePixels: true})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return f.DataSet.UID(dcm.TagSOPInstanceUID)
}
