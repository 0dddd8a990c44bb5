package charset

import "strings"

// TermInfo describes one term for a user choosing a fallback character set
// or a node's query Encoding.
type TermInfo struct {
	Term  string `json:"term"`  // canonical spelling, as Terms lists it
	Label string `json:"label"` // the script or language, in English
	// DICOM is true for a Defined Term of (0008,0005); false for the
	// platform encodings accepted only as a fallback.
	DICOM bool `json:"dicom"`
	// Encodable: Encode writes it (usable as a node's query Encoding).
	Encodable bool `json:"encodable"`
}

// labels names the script of each single-byte set and each multi-byte
// encoding; ISO 2022 forms take the label of their base set.
var labels = map[string]string{
	"ISO_IR 6":     "ASCII only (the default repertoire)",
	"ISO_IR 100":   "Latin-1 (Western European)",
	"ISO_IR 101":   "Latin-2 (Central European)",
	"ISO_IR 109":   "Latin-3 (South European)",
	"ISO_IR 110":   "Latin-4 (North European)",
	"ISO_IR 144":   "Cyrillic",
	"ISO_IR 127":   "Arabic",
	"ISO_IR 126":   "Greek",
	"ISO_IR 138":   "Hebrew",
	"ISO_IR 148":   "Latin-5 (Turkish)",
	"ISO_IR 203":   "Latin-9 (Western European with €)",
	"ISO_IR 166":   "Thai",
	"ISO_IR 13":    "Japanese katakana (JIS X 0201; read as Shift JIS)",
	"ISO_IR 192":   "Unicode UTF-8",
	"GB18030":      "Chinese (GB18030)",
	"GBK":          "Chinese (GBK)",
	"IR 87":        "Japanese kanji (JIS X 0208)",
	"IR 159":       "Japanese supplementary kanji (JIS X 0212)",
	"IR 149":       "Korean (KS X 1001)",
	"IR 58":        "Simplified Chinese (GB 2312)",
	"WINDOWS-1250": "Windows Central European",
	"WINDOWS-1251": "Windows Cyrillic",
	"WINDOWS-1252": "Windows Western European",
	"WINDOWS-1253": "Windows Greek",
	"WINDOWS-1254": "Windows Turkish",
	"WINDOWS-1255": "Windows Hebrew",
	"WINDOWS-1256": "Windows Arabic",
	"WINDOWS-1257": "Windows Baltic",
	"WINDOWS-1258": "Windows Vietnamese",
	"KOI8-R":       "Russian (KOI8-R)",
	"KOI8-U":       "Ukrainian (KOI8-U)",
	"SHIFT_JIS":    "Japanese (Shift JIS)",
	"EUC-JP":       "Japanese (EUC-JP)",
	"EUC-KR":       "Korean (EUC-KR)",
	"BIG5":         "Traditional Chinese (Big5)",
}

// Describe lists every term Known accepts, in the order of Terms, with a
// label and what it can be used for. The caller owns the slice.
func Describe() []TermInfo {
	out := make([]TermInfo, 0, len(termList))
	for i := range termList {
		t := &termList[i]
		label := labels[t.name]
		if t.ext {
			base := "ISO_IR " + strings.TrimPrefix(t.name, "ISO 2022 IR ")
			if l, ok := labels[base]; ok {
				label = l + ", with code extensions (ISO 2022)"
			} else {
				label = labels[strings.TrimPrefix(t.name, "ISO 2022 ")] + " (ISO 2022)"
			}
		}
		_, _, err := Encode(t.name, "A")
		out = append(out, TermInfo{Term: t.name, Label: label, DICOM: t.dicom, Encodable: err == nil})
	}
	return out
}
