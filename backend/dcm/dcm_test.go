package dcm

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"testing"

	"lightbox/backend/testcorpus"
)

func TestCorpusParses(t *testing.T) {
	var ok, errs int
	for _, r := range testcorpus.Manifest(t) {
		f, err := ParseFile(r["abspath"], Options{})
		switch r["expect"] {
		case "ok":
			if err != nil {
				t.Errorf("%s: %v", r["path"], err)
				continue
			}
			ds := f.DataSet
			if r["sop_uid"] == "-" {
				ok++
				f.Close()
				continue
			}
			if got := ds.UID(TagSOPInstanceUID); got != r["sop_uid"] {
				t.Errorf("%s: SOP Instance UID %q, want %q", r["path"], got, r["sop_uid"])
			}
			if got := ds.UID(TagStudyInstanceUID); got != r["study_uid"] {
				t.Errorf("%s: Study UID %q, want %q", r["path"], got, r["study_uid"])
			}
			if r["ts_uid"] != "" && f.TransferSyntax.UID != r["ts_uid"] {
				t.Errorf("%s: TS %q, want %q", r["path"], f.TransferSyntax.UID, r["ts_uid"])
			}
			if r["rows"] != "" && r["samples"] != "-" {
				if got := ds.IntOr(TagRows, -1); strconv.Itoa(got) != r["rows"] {
					t.Errorf("%s: rows %d, want %s", r["path"], got, r["rows"])
				}
				px := ds.Get(TagPixelData)
				if px == nil {
					t.Errorf("%s: no pixel data element", r["path"])
				} else if f.TransferSyntax.Encapsulated != px.Encapsulated() {
					t.Errorf("%s: encapsulated=%v for TS %s", r["path"], px.Encapsulated(), f.TransferSyntax.UID)
				}
			}
			ok++
			f.Close()
		case "error":
			if err != nil {
				if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrNotDICOM) {
					t.Errorf("%s: error %v is neither ErrMalformed nor ErrNotDICOM", r["path"], err)
				}
				errs++
			} else {
				f.Close()
			}
		default: // lenient: must not panic; either outcome is fine
			if err == nil {
				f.Close()
			}
		}
	}
	t.Logf("parsed %d ok files; %d error files rejected by the parser itself", ok, errs)
	if ok < 500 {
		t.Fatalf("only %d ok files parsed", ok)
	}
}

func TestMalformedParserErrors(t *testing.T) {
	// These are broken at the encoding level: the parser itself must refuse them.
	dir := testcorpus.Dir(t)
	for _, name := range []string{"bad_empty.dcm", "bad_garbage_prefix.dcm", "bad_huge_length.dcm", "bad_length_overrun.dcm",
		"bad_magic.dcm", "bad_not_dicom.dcm", "bad_truncated_header.dcm", "bad_truncated_in_tag.dcm", "bad_truncated_meta.dcm",
		"bad_truncated_pixeldata.dcm", "bad_unterminated_sequence.dcm"} {
		f, err := ParseFile(dir+"/malformed/"+name, Options{})
		if err == nil {
			f.Close()
			t.Errorf("%s: parsed without error", name)
		}
	}
}

func TestMetaRoundTrip(t *testing.T) {
	for _, private := range []bool{false, true} {
		m := MetaInfo{SOPClassUID: "1.2.840.10008.5.1.4.1.1.2", SOPInstanceUID: "1.2.3.4.5", TransferSyntaxUID: JPEGLSLossless,
			ImplementationClassUID: "2.25.1", ImplementationVersion: "LIGHTBOX_0.1", SourceAE: "ORTHANC"}
		if private {
			m.PrivateCreatorUID, m.PrivateInformation = "2.25.1.1", []byte("0123456789abcdef")
		}
		checkMetaRoundTrip(t, m)
	}
}

func checkMetaRoundTrip(t *testing.T, m MetaInfo) {
	b := AppendMeta(nil, m)
	metaLen := len(b)
	// an empty data set after the meta
	b = AppendElement(b, false, TagPatientName, "PN", []byte("Doe^Jane"))
	f, err := ParseBytes(b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Warnings) != 0 {
		t.Errorf("warnings: %v", f.Warnings)
	}
	for tag, want := range map[Tag]string{TagMediaStorageSOPClassUID: m.SOPClassUID, TagMediaStorageSOPInstanceUID: m.SOPInstanceUID,
		TagTransferSyntaxUID: m.TransferSyntaxUID, TagImplementationVersionName: m.ImplementationVersion, TagSourceApplicationEntity: m.SourceAE} {
		if got := f.Meta.Text(tag); got != want {
			t.Errorf("%s = %q, want %q", tag, got, want)
		}
	}
	if got := f.DataSet.Raw(TagPatientName); !bytes.Equal(got, []byte("Doe^Jane")) {
		t.Errorf("patient name %q", got)
	}
	if f.DataSetOffset != int64(metaLen) {
		t.Errorf("data set at %d, meta is %d bytes", f.DataSetOffset, metaLen)
	}
	pi := f.Meta.Get(TagPrivateInformation)
	if m.PrivateCreatorUID == "" {
		if pi != nil || f.Meta.Get(TagPrivateInformationCreatorUID) != nil {
			t.Error("private information written without a creator")
		}
		return
	}
	if got := f.Meta.Text(TagPrivateInformationCreatorUID); got != m.PrivateCreatorUID {
		t.Errorf("creator %q", got)
	}
	// the group's last element: its value ends where the data set starts
	if pi == nil || !bytes.Equal(pi.Value, m.PrivateInformation) || pi.Offset+int64(len(pi.Value)) != int64(metaLen) {
		t.Errorf("private information %+v", pi)
	}
}

func TestDeepNestingBounded(t *testing.T) {
	// 100 nested undefined-length sequences: beyond MaxDepth must be an error, not a stack overflow.
	var b []byte
	for i := 0; i < 100; i++ {
		b = append(b, 0x08, 0x00, 0x15, 0x11, 'S', 'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF) // seq, undefined
		b = append(b, 0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF)                 // item, undefined
	}
	_, err := Parse(bytes.NewReader(b), int64(len(b)), Options{MaxDepth: 50})
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("err = %v, want ErrMalformed", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, p := range []string{"malformed/lenient_deep_nesting.dcm", "images/ct/ele/ct_ele_01.dcm", "images/us/us_jpeg-baseline.dcm",
		"charset/generated/cs_ISO_2022_IR_87.dcm", "malformed/bad_unterminated_sequence.dcm", "images/mr/mr_deflate.dcm"} {
		if b, err := os.ReadFile(testcorpus.Dir(f) + "/" + p); err == nil {
			if len(b) > 8192 {
				b = b[:8192]
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := ParseBytes(b, Options{MaxInflated: 1 << 20})
		if err == nil {
			for _, e := range file.DataSet.Elements {
				_ = file.DataSet.Ints(e.Tag)
				_ = file.DataSet.Floats(e.Tag)
			}
		}
	})
}
