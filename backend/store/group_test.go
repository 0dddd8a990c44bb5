package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"lightbox/backend/dcm"
	"lightbox/backend/testcorpus"
)

// checkCounts compares the stored counters with a recount from the rows.
func checkCounts(t *testing.T, s *Store) {
	t.Helper()
	var series []Series
	s.DB().Find(&series)
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
	s.DB().Model(&Instance{}).Count(&n)
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

// TestSameContent: duplicates are decided by comparing content from each
// object's ContentFrom offset, by bytes, or by the SHA-256 an older store
// recorded.
func TestSameContent(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hexSum := func(s string) string {
		h := sha256.Sum256([]byte(s))
		return hex.EncodeToString(h[:])
	}
	big := strings.Repeat("0123456789abcdef", 10000) // more than one compare buffer
	for _, c := range []struct {
		name      string
		old, new  string
		oldFrom   int64
		newFrom   int64
		oldSHA    string
		removeOld bool
		want      bool
		wantErr   bool
	}{
		{name: "same bytes", old: big, new: big, want: true},
		{name: "last byte differs", old: big, new: big[:len(big)-1] + "X", want: false},
		{name: "first byte differs", old: big, new: "X" + big[1:], want: false},
		{name: "shorter", old: big, new: big[:len(big)-1], want: false},
		{name: "other meta header, same content", old: "META-A" + big, new: "MH-B" + big, oldFrom: 6, newFrom: 4, want: true},
		{name: "same meta header, other content", old: "META" + big, new: "META" + big[:100], oldFrom: 4, newFrom: 4, want: false},
		{name: "legacy hash equal", old: "ignored", new: "MH" + big, newFrom: 2, oldSHA: hexSum(big), want: true},
		{name: "legacy hash differs", old: "ignored", new: "MH" + big, newFrom: 2, oldSHA: hexSum(big + "!"), want: false},
		{name: "stored file gone", old: big, new: big, removeOld: true, wantErr: true},
	} {
		oldPath := write("old.dcm", c.old)
		newPath := write("new.dcm", c.new)
		if c.removeOld {
			os.Remove(oldPath)
		}
		nf, err := os.Open(newPath)
		if err != nil {
			t.Fatal(err)
		}
		in := &Incoming{f: nf, n: int64(len(c.new)), from: c.newFrom}
		got, err := sameContent(in, oldPath, &Instance{SHA256: c.oldSHA, ContentFrom: c.oldFrom})
		nf.Close()
		if (err != nil) != c.wantErr || got != c.want {
			t.Errorf("%s: %v, %v; want %v (error %v)", c.name, got, err, c.want, c.wantErr)
		}
	}
}

// TestDuplicateAfterOtherMetaHeader: an object received twice with a
// different File Meta header (another sending AE) is the same object.
func TestDuplicateAfterOtherMetaHeader(t *testing.T) {
	s, err := Open(t.TempDir(), Options{Fsync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b, err := os.ReadFile(ctFiles(t)[0])
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range []struct {
		head []byte // stands for the receiver's meta header
		want Outcome
	}{
		{b[:132], Stored},
		{b[:132], Duplicate},
		{[]byte(strings.Repeat("x", 128) + "DICM"), Duplicate}, // other bytes before the content
	} {
		in, err := s.NewIncoming()
		if err != nil {
			t.Fatal(err)
		}
		in.Write(c.head)
		in.HashFromHere()
		in.Write(b[132:])
		r, err := in.Commit(context.Background(), "test", &Expect{ReplaceDifferent: true})
		if err != nil || r.Outcome != c.want {
			t.Errorf("%d: %v %v, want %v", i, r.Outcome, err, c.want)
		}
	}
}

// TestTempFileModes: with unnamed (O_TMPFILE) and with named temp files,
// store, replace and abort leave the right file in place and nothing in tmp.
func TestTempFileModes(t *testing.T) {
	files := ctFiles(t)
	other := filepath.Join(testcorpus.Dir(t), "malformed/ok_garbage_preamble.dcm") // same SOP Instance UID as files[0], other bytes
	for _, named := range []bool{false, true} {
		dir := t.TempDir()
		s, err := Open(dir, Options{Fsync: true})
		if err != nil {
			t.Fatal(err)
		}
		s.noTmpfile.Store(named)
		for _, c := range []struct {
			path string
			want Outcome
		}{
			{files[0], Stored},
			{other, Replaced},
			{other, Duplicate},
			{files[0], Replaced},
		} {
			r, err := put(t, s, c.path, &Expect{ReplaceDifferent: true})
			if err != nil || r.Outcome != c.want {
				t.Fatalf("named=%v %s: %v %v, want %v", named, filepath.Base(c.path), r.Outcome, err, c.want)
			}
			in, _ := s.InstanceByUID(context.Background(), r.SOPInstanceUID)
			got, _ := os.ReadFile(s.ObjectPath(in))
			want, _ := os.ReadFile(c.path)
			if string(got) != string(want) {
				t.Errorf("named=%v %s: the stored file is not the last one committed", named, filepath.Base(c.path))
			}
		}
		in, err := s.NewIncoming()
		if err != nil {
			t.Fatal(err)
		}
		if (in.path != "") != named {
			t.Errorf("named=%v: temp file path %q", named, in.path)
		}
		in.Write([]byte("partial"))
		in.Abort()
		if n := countFiles(t, filepath.Join(dir, "tmp")); n != 0 {
			t.Errorf("named=%v: %d temp files left", named, n)
		}
		if n := countFiles(t, filepath.Join(dir, "objects")); n != 1 {
			t.Errorf("named=%v: %d objects, want 1", named, n)
		}
		checkCounts(t, s)
		s.Close()
	}
}

// TestReplaceKeepsOlderLayoutPath: an object stored under the older
// two-level layout is replaced in place, so no second file appears (which
// reconcile would later move over the newer one).
func TestReplaceKeepsOlderLayoutPath(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{Fsync: true})
	if err != nil {
		t.Fatal(err)
	}
	files := ctFiles(t)
	r, err := put(t, s, files[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	in, _ := s.InstanceByUID(context.Background(), r.SOPInstanceUID)
	legacy := filepath.Join("ab", "cd", filepath.Base(in.Path))
	os.MkdirAll(filepath.Join(dir, "objects", "ab", "cd"), 0o755)
	if err := os.Rename(s.ObjectPath(in), filepath.Join(dir, "objects", legacy)); err != nil {
		t.Fatal(err)
	}
	s.db.Model(&Instance{}).Where("id = ?", in.ID).Update("path", legacy)
	other := filepath.Join(testcorpus.Dir(t), "malformed/ok_garbage_preamble.dcm")
	if r, err := put(t, s, other, &Expect{ReplaceDifferent: true}); err != nil || r.Outcome != Replaced {
		t.Fatalf("replace: %v %v", r.Outcome, err)
	}
	s.Close()
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := countFiles(t, filepath.Join(dir, "objects")); n != 1 {
		t.Errorf("%d files, want 1", n)
	}
	in, err = s.InstanceByUID(context.Background(), r.SOPInstanceUID)
	if err != nil || in.Path != legacy {
		t.Fatalf("row %+v %v; want path %s", in, err, legacy)
	}
	got, _ := os.ReadFile(s.ObjectPath(in))
	want, _ := os.ReadFile(other)
	if string(got) != string(want) {
		t.Errorf("the stored file is not the replacement")
	}
}

// TestInstanceRowFields: the row written on the fast path holds what the
// object says (read back through gorm).
func TestInstanceRowFields(t *testing.T) {
	s, err := Open(t.TempDir(), Options{Fsync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	f := ctFiles(t)[3]
	fi, _ := os.Stat(f)
	r, err := put(t, s, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	in, err := s.InstanceByUID(context.Background(), r.SOPInstanceUID)
	if err != nil {
		t.Fatal(err)
	}
	x, err := dcm.ParseFile(f, dcm.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	want, _ := extract(x, func(ds *dcm.DataSet, t dcm.Tag) string { return ds.Text(t) })
	got := *in
	if got.SOPClassUID != want.inst.SOPClassUID || got.TransferSyntaxUID != want.inst.TransferSyntaxUID ||
		got.InstanceNumber != want.inst.InstanceNumber || got.Rows != want.inst.Rows || got.Columns != want.inst.Columns ||
		got.Frames != want.inst.Frames || got.SliceLocation != want.inst.SliceLocation || got.Size != fi.Size() ||
		got.Source != "test" || got.Path != objectPath(r.SOPInstanceUID) || got.SeriesRef == 0 {
		t.Errorf("row %+v\nobject %+v", got, want.inst)
	}
	if d := time.Since(got.ReceivedAt); d < 0 || d > time.Minute {
		t.Errorf("received at %v", got.ReceivedAt)
	}
}

// TestIncomingReadFrom: copying from a file (kernel copy) and from any
// reader append the same bytes after what was written before.
func TestIncomingReadFrom(t *testing.T) {
	s, err := Open(t.TempDir(), Options{Fsync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	f := ctFiles(t)[2]
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		open func() io.Reader
	}{
		{"file", func() io.Reader { fh, _ := os.Open(f); t.Cleanup(func() { fh.Close() }); return fh }},
		{"reader", func() io.Reader { return strings.NewReader(string(b)) }},
	} {
		in, err := s.NewIncoming()
		if err != nil {
			t.Fatal(err)
		}
		in.Write(b[:132])
		n, err := in.ReadFrom(io.NewSectionReader(bytes.NewReader(b), 0, 0)) // nothing
		if err != nil || n != 0 {
			t.Fatalf("%s: empty: %d %v", c.name, n, err)
		}
		r := c.open()
		if sr, ok := r.(io.Seeker); ok {
			sr.Seek(132, io.SeekStart)
		} else {
			io.CopyN(io.Discard, r, 132)
		}
		n, err = in.ReadFrom(r)
		if err != nil || n != int64(len(b)-132) || in.Size() != int64(len(b)) {
			t.Fatalf("%s: %d %v, size %d; want %d", c.name, n, err, in.Size(), len(b))
		}
		res, err := in.Commit(context.Background(), "test", &Expect{ReplaceDifferent: true})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		inst, _ := s.InstanceByUID(context.Background(), res.SOPInstanceUID)
		got, _ := os.ReadFile(s.ObjectPath(inst))
		if !bytes.Equal(got, b) {
			t.Errorf("%s: stored bytes differ", c.name)
		}
	}
}
