package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
	"time"

	"lightbox/backend/dcm"
)

// dataSetOf returns a corpus file's meta (as the SCP would build it from
// the command) and its data set bytes as a sender would send them.
func dataSetOf(t *testing.T, path string) (dcm.MetaInfo, []byte) {
	t.Helper()
	f, err := dcm.ParseFile(path, dcm.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := dcm.MetaInfo{SOPClassUID: f.Meta.UID(dcm.TagMediaStorageSOPClassUID), SOPInstanceUID: f.Meta.UID(dcm.TagMediaStorageSOPInstanceUID),
		TransferSyntaxUID: f.TransferSyntax.UID, ImplementationClassUID: "2.25.1", SourceAE: "SENDER"}
	return m, b[f.DataSetOffset:]
}

// receive stores a data set the way the Storage SCP does.
func receive(t *testing.T, s *Store, m dcm.MetaInfo, ds []byte) (Result, error) {
	t.Helper()
	in, err := s.NewPart10(m)
	if err != nil {
		t.Fatal(err)
	}
	for p := ds; len(p) > 0; { // in PDV-sized pieces
		k := min(len(p), 16<<10)
		if _, err := in.Write(p[:k]); err != nil {
			t.Fatal(err)
		}
		p = p[k:]
	}
	return in.Commit(context.Background(), "AE:SENDER", &Expect{SOPClassUID: m.SOPClassUID, SOPInstanceUID: m.SOPInstanceUID,
		ReplaceDifferent: true, Indexed: true})
}

// nonEmptyFiles lists the object tree's files that are not ready slots.
func nonEmptyFiles(t *testing.T, dir string) []string {
	var out []string
	filepath.WalkDir(filepath.Join(dir, "objects"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil && fi.Size() > 0 {
				out = append(out, p)
			}
		}
		return nil
	})
	return out
}

// TestPart10Sealed: a received object lands in its slot with our File
// Meta header, a seal that matches, and the data set byte for byte; the
// same object again is a duplicate whose slot goes; a different one with
// the same UID replaces it and the old file goes; an aborted one leaves
// nothing.
func TestPart10Sealed(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, Options{Fsync: true})
	m, ds := dataSetOf(t, ctFiles(t)[2])
	r, err := receive(t, s, m, ds)
	if err != nil || r.Outcome != Stored {
		t.Fatalf("%+v %v", r, err)
	}
	inst, err := s.InstanceByUID(context.Background(), m.SOPInstanceUID)
	if err != nil {
		t.Fatal(err)
	}
	if inst.Path == objectPath(m.SOPInstanceUID) {
		t.Errorf("path %s: not a slot", inst.Path)
	}
	b, err := os.ReadFile(s.ObjectPath(inst))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b[int64(len(b))-int64(len(ds)):], ds) || inst.ContentFrom != int64(len(b)-len(ds)) || inst.Size != int64(len(b)) {
		t.Fatalf("stored %d bytes, content from %d; data set %d bytes", len(b), inst.ContentFrom, len(ds))
	}
	f, err := dcm.ParseBytes(b, dcm.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Meta.Text(dcm.TagSourceApplicationEntity); got != "SENDER" {
		t.Errorf("source AE %q", got)
	}
	if st := checkSeal(f.Meta, bytes.NewReader(b), int64(len(b))); st != sealOK {
		t.Fatalf("seal state %d", st)
	}

	if r, err := receive(t, s, m, ds); err != nil || r.Outcome != Duplicate {
		t.Fatalf("again: %+v %v", r, err)
	}
	if got := nonEmptyFiles(t, dir); len(got) != 1 {
		t.Fatalf("after a duplicate: files %v", got)
	}

	other := bytes.Clone(ds)
	other[len(other)-1] ^= 0xFF // a pixel
	if r, err := receive(t, s, m, other); err != nil || r.Outcome != Replaced {
		t.Fatalf("different: %+v %v", r, err)
	}
	s.Flush(context.Background())
	got := nonEmptyFiles(t, dir)
	inst2, _ := s.InstanceByUID(context.Background(), m.SOPInstanceUID)
	if len(got) != 1 || got[0] != s.ObjectPath(inst2) || inst2.Path == inst.Path {
		t.Fatalf("after a replacement: files %v, row %s (was %s)", got, inst2.Path, inst.Path)
	}
	if b, _ := os.ReadFile(got[0]); !bytes.HasSuffix(b, other) {
		t.Error("the replacement is not the newest object")
	}

	in, err := s.NewPart10(m)
	if err != nil {
		t.Fatal(err)
	}
	in.Write(ds[:1000])
	in.Abort()
	if got := nonEmptyFiles(t, dir); len(got) != 1 {
		t.Fatalf("after an abort: files %v", got)
	}
	checkCounts(t, s)
}

// TestSlotRecovery: what Open makes of slots left by a crash.
func TestSlotRecovery(t *testing.T) {
	files := ctFiles(t)
	// sealed objects as the SCP writes them
	src := t.TempDir()
	s := mustOpen(t, src, Options{Fsync: true})
	var sealed [][]byte
	for _, f := range files[:2] {
		m, ds := dataSetOf(t, f)
		if _, err := receive(t, s, m, ds); err != nil {
			t.Fatal(err)
		}
		inst, _ := s.InstanceByUID(context.Background(), m.SOPInstanceUID)
		b, _ := os.ReadFile(s.ObjectPath(inst))
		sealed = append(sealed, b)
	}
	seal := func(b []byte) int { // offset of the seal's value
		i := bytes.Index(b, []byte(sealMagic))
		if i < 0 {
			t.Fatal("no seal")
		}
		return i
	}
	flipped := bytes.Clone(sealed[0])
	flipped[len(flipped)-100] ^= 1
	zero := bytes.Clone(sealed[0])
	copy(zero[seal(zero):], make([]byte, sealSize))
	plain, _ := os.ReadFile(files[3])
	tests := []struct {
		name    string
		content []byte
		indexed bool
	}{
		{"unused slot", nil, false},
		{"sealed, complete", sealed[0], true},
		{"seal never written", zero, false},
		{"one byte wrong", flipped, false},
		{"truncated", sealed[0][:len(sealed[0])-1000], false},
		{"header only", sealed[0][:seal(sealed[0])+sealSize], false},
		{"unsealed file (import, older Lightbox)", plain, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "objects", "ab", "0123456789abcdef0123456789abcdef.dcm")
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, tc.content, 0o644); err != nil {
				t.Fatal(err)
			}
			s := mustOpen(t, dir, Options{Fsync: true})
			if n := rowCount(s); (n == 1) != tc.indexed || n > 1 {
				t.Errorf("%d rows", n)
			}
			files := nonEmptyFiles(t, dir)
			if (len(files) == 1) != tc.indexed || len(files) > 1 {
				t.Errorf("files %v", files)
			}
			if tc.indexed {
				var in Instance
				s.db.First(&in)
				if in.Source != "recovered" || s.ObjectPath(&in) != files[0] {
					t.Errorf("row %+v, file %v", in, files)
				}
			}
		})
	}

	// A sealed file without a row whose SOP Instance UID has a row naming
	// another file: the file written last wins.
	for _, orphanNewer := range []bool{false, true} {
		dir := t.TempDir()
		s := mustOpen(t, dir, Options{Fsync: true})
		m, ds := dataSetOf(t, files[0])
		if _, err := receive(t, s, m, ds); err != nil {
			t.Fatal(err)
		}
		inst, _ := s.InstanceByUID(context.Background(), m.SOPInstanceUID)
		kept := s.ObjectPath(inst)
		s.Close()
		orphan := filepath.Join(dir, "objects", "cd", "00000000000000000000000000000000.dcm")
		os.MkdirAll(filepath.Dir(orphan), 0o755)
		os.WriteFile(orphan, sealed[0], 0o644)
		older := time.Now().Add(-time.Hour)
		if orphanNewer {
			os.Chtimes(kept, older, older)
		} else {
			os.Chtimes(orphan, older, older)
		}
		s = mustOpen(t, dir, Options{Fsync: true})
		inst, _ = s.InstanceByUID(context.Background(), m.SOPInstanceUID)
		want := kept
		if orphanNewer {
			want = orphan
		}
		if got := nonEmptyFiles(t, dir); len(got) != 1 || got[0] != want || s.ObjectPath(inst) != want {
			t.Errorf("orphan newer %v: files %v, row names %s; want %s", orphanNewer, got, inst.Path, want)
		}
		checkCounts(t, s)
	}
}

// TestSecondOpenDoesNotReconcile: while one Store has the directory open
// (here with an object half received), opening it again does not take
// that object for a leftover; once nobody has it open, Open cleans up.
func TestSecondOpenDoesNotReconcile(t *testing.T) {
	dir := t.TempDir()
	s1, err := Open(dir, Options{Fsync: true})
	if err != nil {
		t.Fatal(err)
	}
	m, ds := dataSetOf(t, ctFiles(t)[0])
	in, err := s1.NewPart10(m)
	if err != nil {
		t.Fatal(err)
	}
	in.Write(ds[:len(ds)/2])
	s2, err := Open(dir, Options{Fsync: true})
	if err != nil {
		t.Fatal(err)
	}
	slotPath := filepath.Join(dir, "objects", in.slot.rel)
	if _, err := os.Stat(slotPath); err != nil {
		t.Fatalf("the slot of the object being received is gone: %v", err)
	}
	in.Write(ds[len(ds)/2:])
	if _, err := in.Commit(context.Background(), "AE:SENDER", &Expect{Indexed: true}); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(slotPath); err != nil || !bytes.HasSuffix(b, ds) {
		t.Fatalf("the object is not in its slot: %v", err)
	}
	s2.Close()
	// a crash in the middle of another object
	in, _ = s1.NewPart10(m)
	in.Write(ds[:1000])
	s1.Close()
	s3 := mustOpen(t, dir, Options{Fsync: true})
	if got := nonEmptyFiles(t, dir); len(got) != 1 || rowCount(s3) != 1 {
		t.Fatalf("after reopening alone: files %v, %d rows", got, rowCount(s3))
	}
}

// FuzzCheckSeal: any file in the object tree (parsed, then its seal
// checked) gives a verdict, never a panic; a seal only matches bytes that
// end with the data set it describes.
func FuzzCheckSeal(f *testing.F) {
	m, ds := dataSetOf(&testing.T{}, ctFiles(&testing.T{})[0])
	m.PrivateCreatorUID, m.PrivateInformation = sealCreatorUID, make([]byte, sealSize)
	head := dcm.AppendMeta(nil, m)
	crc := crc32.Checksum(ds, castagnoli)
	copy(head[len(head)-sealSize:], sealValue(crc, int64(len(ds))))
	whole := append(head, ds...)
	if p, err := dcm.ParseBytes(whole, dcm.Options{}); err != nil || checkSeal(p.Meta, bytes.NewReader(whole), int64(len(whole))) != sealOK {
		f.Fatalf("the sealed seed does not check: %v", err)
	}
	f.Add(whole)
	f.Add(head)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := dcm.ParseBytes(b, dcm.Options{})
		if err != nil {
			return
		}
		if checkSeal(p.Meta, bytes.NewReader(b), int64(len(b))) == sealOK {
			e := p.Meta.Get(dcm.TagPrivateInformation)
			n := int(binary.LittleEndian.Uint64(e.Value[8:]))
			if crc32.Checksum(b[len(b)-n:], castagnoli) != binary.LittleEndian.Uint32(e.Value[4:]) {
				t.Fatal("a seal matched bytes it does not describe")
			}
		}
	})
}
