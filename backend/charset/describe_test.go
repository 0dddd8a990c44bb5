package charset

import "testing"

func TestDescribe(t *testing.T) {
	d := Describe()
	if len(d) != len(Terms()) {
		t.Fatalf("%d descriptions for %d terms", len(d), len(Terms()))
	}
	want := map[string]TermInfo{
		"ISO_IR 100":      {Label: "Latin-1 (Western European)", DICOM: true, Encodable: true},
		"ISO 2022 IR 87":  {Label: "Japanese kanji (JIS X 0208) (ISO 2022)", DICOM: true, Encodable: true},
		"ISO 2022 IR 144": {Label: "Cyrillic, with code extensions (ISO 2022)", DICOM: true, Encodable: true},
		"ISO_IR 192":      {Label: "Unicode UTF-8", DICOM: true, Encodable: true},
		"WINDOWS-1251":    {Label: "Windows Cyrillic", DICOM: false, Encodable: false},
		"BIG5":            {Label: "Traditional Chinese (Big5)", DICOM: false, Encodable: false},
	}
	seen := 0
	for i, x := range d {
		if x.Term != Terms()[i] || x.Label == "" || !Known(x.Term) {
			t.Errorf("entry %d: %+v", i, x)
		}
		if w, ok := want[x.Term]; ok {
			seen++
			w.Term = x.Term
			if x != w {
				t.Errorf("%s: got %+v, want %+v", x.Term, x, w)
			}
		}
	}
	if seen != len(want) {
		t.Errorf("found %d of %d expected terms", seen, len(want))
	}
}
