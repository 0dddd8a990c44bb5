package charset

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// --- a minimal, test-only Part 10 reader (Explicit VR Little Endian) ---

type testDataset struct {
	values map[uint32][]byte
	items  map[uint32][]*testDataset
}

const (
	tagSpecificCharacterSet = 0x00080005
	tagInstitutionName      = 0x00080080
	tagStudyDescription     = 0x00081030
	tagPatientName          = 0x00100010
	tagItem                 = 0xFFFEE000
	tagItemDelim            = 0xFFFEE00D
	tagSeqDelim             = 0xFFFEE0DD
	tagPixelData            = 0x7FE00010
	undefinedLength         = 0xFFFFFFFF
)

var errTestReader = errors.New("test reader: malformed file")

func readTestPart10(path string) (*testDataset, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 132 || string(b[128:132]) != "DICM" {
		return nil, fmt.Errorf("%w: no DICM prefix", errTestReader)
	}
	ds, _, err := readTestDataset(b, 132, len(b), false, 0)
	return ds, err
}

func tagAt(b []byte, p int) uint32 {
	return uint32(binary.LittleEndian.Uint16(b[p:]))<<16 | uint32(binary.LittleEndian.Uint16(b[p+2:]))
}

// readTestDataset reads elements from b[pos:end]; inside an item of
// undefined length it stops after the item delimiter.
func readTestDataset(b []byte, pos, end int, inItem bool, depth int) (*testDataset, int, error) {
	if depth > 8 {
		return nil, pos, fmt.Errorf("%w: nesting too deep", errTestReader)
	}
	ds := &testDataset{values: map[uint32][]byte{}, items: map[uint32][]*testDataset{}}
	for pos+8 <= end {
		tag := tagAt(b, pos)
		if tag == tagItemDelim && inItem {
			return ds, pos + 8, nil
		}
		if tag == tagPixelData {
			return ds, end, nil
		}
		vr := string(b[pos+4 : pos+6])
		var n uint32
		switch vr {
		case "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "UC", "UN", "UR", "UT", "SV", "UV":
			if pos+12 > end {
				return nil, pos, fmt.Errorf("%w: short header", errTestReader)
			}
			n = binary.LittleEndian.Uint32(b[pos+8:])
			pos += 12
		default:
			n = uint32(binary.LittleEndian.Uint16(b[pos+6:]))
			pos += 8
		}
		if vr == "SQ" {
			items, next, err := readTestSequence(b, pos, end, n, depth)
			if err != nil {
				return nil, pos, err
			}
			ds.items[tag] = items
			pos = next
			continue
		}
		if n == undefinedLength || int64(pos)+int64(n) > int64(end) {
			return nil, pos, fmt.Errorf("%w: bad length %d for %08X", errTestReader, n, tag)
		}
		ds.values[tag] = b[pos : pos+int(n)]
		pos += int(n)
	}
	return ds, pos, nil
}

func readTestSequence(b []byte, pos, end int, n uint32, depth int) ([]*testDataset, int, error) {
	seqEnd := end
	if n != undefinedLength {
		if int64(pos)+int64(n) > int64(end) {
			return nil, pos, fmt.Errorf("%w: sequence too long", errTestReader)
		}
		seqEnd = pos + int(n)
	}
	var items []*testDataset
	for pos+8 <= seqEnd {
		tag := tagAt(b, pos)
		il := binary.LittleEndian.Uint32(b[pos+4:])
		pos += 8
		switch {
		case tag == tagSeqDelim:
			return items, pos, nil
		case tag != tagItem:
			return nil, pos, fmt.Errorf("%w: %08X in sequence", errTestReader, tag)
		case il == undefinedLength:
			item, next, err := readTestDataset(b, pos, seqEnd, true, depth+1)
			if err != nil {
				return nil, pos, err
			}
			items, pos = append(items, item), next
		default:
			if int64(pos)+int64(il) > int64(seqEnd) {
				return nil, pos, fmt.Errorf("%w: item too long", errTestReader)
			}
			item, _, err := readTestDataset(b, pos, pos+int(il), false, depth+1)
			if err != nil {
				return nil, pos, err
			}
			items, pos = append(items, item), pos+int(il)
		}
	}
	return items, pos, nil
}

// scsOf returns the values of (0008,0005), or nil when absent.
func (ds *testDataset) scsOf() []string {
	raw, ok := ds.values[tagSpecificCharacterSet]
	if !ok {
		return nil
	}
	vals, _ := NewDecoder(nil).DecodeValues("CS", raw)
	return vals
}

// --- the corpus manifest ---

type manifestRow map[string]string

func corpusDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("LIGHTBOX_CORPUS")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "lightbox", "corpus")
	}
	if _, err := os.Stat(filepath.Join(dir, "manifest.tsv")); err != nil {
		t.Fatal("corpus missing: run make corpus")
	}
	return dir
}

func charsetRows(t *testing.T, dir string) []manifestRow {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "manifest.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var header []string
	var rows []manifestRow
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if header == nil {
			header = cols
			continue
		}
		row := manifestRow{}
		for i, h := range header {
			if i < len(cols) {
				row[h] = cols[i]
			}
		}
		if row["kind"] == "charset" {
			rows = append(rows, row)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// noteValue matches "StudyDescription=..." parts of the manifest note, with
// an optional parenthesised remark after the value.
var noteValue = regexp.MustCompile(`^(StudyDescription|InstitutionName)=(.*?)(?: \(.*\))?$`)

func TestCorpusCharsetFiles(t *testing.T) {
	dir := corpusDir(t)
	rows := charsetRows(t, dir)
	if len(rows) != 31 {
		t.Fatalf("manifest has %d charset rows, want 31", len(rows))
	}
	names, extra := 0, 0
	for _, row := range rows {
		t.Run(filepath.Base(row["path"]), func(t *testing.T) {
			ds, err := readTestPart10(filepath.Join(dir, row["path"]))
			if err != nil {
				t.Fatal(err)
			}
			scs := ds.scsOf()
			if got := strings.Join(scs, `\`); got != row["charset"] {
				t.Errorf("(0008,0005) = %q, manifest says %q", got, row["charset"])
			}
			d := NewDecoder(scs)
			if u := d.Unknown(); len(u) != 0 {
				t.Errorf("unknown terms %q", u)
			}
			raw, ok := ds.values[tagPatientName]
			got, bad := d.Decode("PN", raw)
			if !ok && row["patient_name_utf8"] != "" {
				t.Fatalf("no PatientName, want %q", row["patient_name_utf8"])
			}
			if got != row["patient_name_utf8"] || bad {
				t.Errorf("PatientName = %q (substituted %v), want %q", got, bad, row["patient_name_utf8"])
			} else {
				names++
			}
			for _, part := range strings.Split(row["note"], "; ") {
				m := noteValue.FindStringSubmatch(part)
				if m == nil {
					continue
				}
				tag := uint32(tagStudyDescription)
				if m[1] == "InstitutionName" {
					tag = tagInstitutionName
				}
				got, bad := d.Decode("LO", ds.values[tag])
				if got != m[2] || bad {
					t.Errorf("%s = %q (substituted %v), want %q", m[1], got, bad, m[2])
				} else {
					extra++
				}
			}
		})
	}
	t.Logf("PatientName %d/%d files; StudyDescription/InstitutionName %d values from the notes", names, len(rows), extra)
	if names != 31 {
		t.Errorf("decoded %d/31 names", names)
	}
	if extra < 14 {
		t.Errorf("only %d note values checked, the manifest has at least 14", extra)
	}
}

// TestCorpusSequenceItemCharset: in chrSQEncoding the item of
// (0032,1064) has its own (0008,0005); in chrSQEncoding1 it inherits the
// data set's. Both item names are the name of chrH32.dcm (pydicom's
// FileInfo.txt), whose manifest row gives the expected UTF-8.
func TestCorpusSequenceItemCharset(t *testing.T) {
	dir := corpusDir(t)
	var want string
	for _, row := range charsetRows(t, dir) {
		if filepath.Base(row["path"]) == "chrH32.dcm" {
			want = row["patient_name_utf8"]
		}
	}
	if want == "" {
		t.Fatal("chrH32.dcm not in the manifest")
	}
	for _, file := range []string{"chrSQEncoding.dcm", "chrSQEncoding1.dcm"} {
		ds, err := readTestPart10(filepath.Join(dir, "charset", "pydicom", file))
		if err != nil {
			t.Fatal(err)
		}
		items := ds.items[0x00321064]
		if len(items) != 1 {
			t.Fatalf("%s: %d items in (0032,1064), want 1", file, len(items))
		}
		d := NewDecoder(ds.scsOf()).Item(items[0].scsOf())
		got, bad := d.Decode("PN", items[0].values[tagPatientName])
		if got != want || bad {
			t.Errorf("%s: item PatientName = %q (substituted %v), want %q", file, got, bad, want)
		}
	}
}

// TestCorpusMultiValued: OtherPatientNames of the *Multi files has two
// values, each equal to the PatientName.
func TestCorpusMultiValued(t *testing.T) {
	dir := corpusDir(t)
	for _, file := range []string{"chrFrenMulti.dcm", "chrJapMulti.dcm", "chrJapMultiExplicitIR6.dcm", "chrKoreanMulti.dcm"} {
		ds, err := readTestPart10(filepath.Join(dir, "charset", "pydicom", file))
		if err != nil {
			t.Fatal(err)
		}
		d := NewDecoder(ds.scsOf())
		name, _ := d.Decode("PN", ds.values[tagPatientName])
		others, bad := d.DecodeValues("PN", ds.values[0x00101001])
		if len(others) != 2 || others[0] != name || others[1] != name || bad {
			t.Errorf("%s: OtherPatientNames = %q (substituted %v), want 2 x %q", file, others, bad, name)
		}
	}
}
