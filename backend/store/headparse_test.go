package store

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"lightbox/backend/dcm"
	"lightbox/backend/testcorpus"
)

func plainText(ds *dcm.DataSet, t dcm.Tag) string { return ds.Text(t) }

// checkEarlyHeader is the contract of headerFromHead for one object b: when
// the head says the object ends with its pixels and b does end there, the
// whole object parses to the same values. It reports whether the early
// values apply.
func checkEarlyHeader(t *testing.T, b []byte) bool {
	t.Helper()
	early, pxEnd, ok := headerFromHead(b[:min(len(b), headSize)], plainText)
	if !ok || pxEnd != int64(len(b)) {
		return false
	}
	f, err := dcm.ParseBytes(b, dcm.Options{MaxInline: 64 << 10})
	if err != nil {
		t.Fatalf("the head parsed, the whole object does not: %v", err)
	}
	full, err := extract(f, plainText)
	if err != nil {
		t.Fatalf("the head's values were accepted, the whole object's are not: %v", err)
	}
	if a, b := fmt.Sprintf("%+v", *early), fmt.Sprintf("%+v", *full); a != b {
		t.Fatalf("values differ:\nhead  %s\nwhole %s", a, b)
	}
	return true
}

// TestHeaderFromHead: for every image of the corpus, and for objects whose
// pixels are followed by another element or cut short, the header read
// from the head is used only when it equals a parse of the whole object.
func TestHeaderFromHead(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testcorpus.Dir(t), "images", "*", "*", "*.dcm"))
	if len(files) < 100 {
		t.Fatalf("%d corpus images", len(files))
	}
	used := 0
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		early := checkEarlyHeader(t, b)
		if early {
			used++
		}
		// Data Set Trailing Padding after the pixels: never the early values.
		pad := binary.LittleEndian.AppendUint16(binary.LittleEndian.AppendUint16(nil, 0xFFFC), 0xFFFC)
		pad = append(pad, "OB\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00"...)
		if checkEarlyHeader(t, append(append([]byte(nil), b...), pad...)) {
			t.Errorf("%s: early values used with an element after the pixels", filepath.Base(p))
		}
		if early && checkEarlyHeader(t, b[:len(b)-2]) {
			t.Errorf("%s: early values used for a truncated object", filepath.Base(p))
		}
	}
	if used == 0 {
		t.Error("no corpus image was parsed from its head")
	}
	t.Logf("%d of %d images parsed from their head", used, len(files))
}

// grown returns the object at p with its (native, Explicit VR LE) Pixel
// Data value made extra bytes longer, so that it is larger than the head.
func grown(t testing.TB, p string, extra int) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	f, err := dcm.ParseBytes(b, dcm.Options{})
	if err != nil {
		t.Fatal(err)
	}
	px := f.DataSet.Get(dcm.TagPixelData)
	if px == nil || px.Offset+int64(px.Length) != int64(len(b)) {
		t.Fatalf("%s: pixel data is not last", p)
	}
	binary.LittleEndian.PutUint32(b[px.Offset-4:], px.Length+uint32(extra))
	return append(b, make([]byte, extra)...)
}

// TestEarlyHeaderThroughWrite: objects written in pieces (as the Storage SCP
// does), larger than the head so that their header is parsed while they
// arrive, are indexed with the same values as when copied whole.
func TestEarlyHeaderThroughWrite(t *testing.T) {
	a := mustOpen(t, t.TempDir(), Options{Fsync: true})
	b := mustOpen(t, t.TempDir(), Options{})
	dir := t.TempDir()
	for i, p := range ctFiles(t)[:4] {
		data := grown(t, p, 200<<10)
		whole := filepath.Join(dir, fmt.Sprint(i))
		os.WriteFile(whole, data, 0o644)
		in, err := a.NewIncoming()
		if err != nil {
			t.Fatal(err)
		}
		for off := 0; off < len(data); off += 16 << 10 {
			in.Write(data[off:min(len(data), off+16<<10)])
		}
		if in.early == nil || in.early.pxEnd != int64(len(data)) {
			t.Errorf("%s: not parsed from its head (%+v)", filepath.Base(p), in.early)
		}
		ra, err := in.Commit(t.Context(), "test", nil)
		if err != nil {
			t.Fatal(err)
		}
		rb, err := put(t, b, whole, nil)
		if err != nil || ra != rb {
			t.Fatalf("results %+v and %+v (%v)", ra, rb, err)
		}
		ia, _ := a.InstanceByUID(t.Context(), ra.SOPInstanceUID)
		ib, _ := b.InstanceByUID(t.Context(), rb.SOPInstanceUID)
		ia.ReceivedAt = ib.ReceivedAt
		if x, y := fmt.Sprintf("%+v", *ia), fmt.Sprintf("%+v", *ib); x != y {
			t.Errorf("rows differ:\n%s\n%s", x, y)
		}
		got, _ := os.ReadFile(a.ObjectPath(ia))
		if string(got) != string(data) {
			t.Errorf("%s: stored bytes differ", filepath.Base(p))
		}
	}
}

// FuzzHeaderFromHead: no input panics, and early values are only ever
// those of a parse of the whole object.
func FuzzHeaderFromHead(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(testcorpus.Dir(f), "images", "ct", "*", "*.dcm"))
	for i, p := range files {
		if i%10 != 0 {
			continue
		}
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	ele, _ := filepath.Glob(filepath.Join(testcorpus.Dir(f), "images", "ct", "ele", "*.dcm"))
	if len(ele) == 0 {
		f.Fatal("no CT images")
	}
	f.Add(grown(f, ele[0], 100<<10))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkEarlyHeader(t, b)
	})
}
