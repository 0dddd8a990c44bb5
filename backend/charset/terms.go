package charset

import (
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

// set is one ISO 2022 code element (a graphic character set that can be
// designated to G0 or G1).
type set uint8

const (
	setNone     set = iota
	setASCII        // ISO-IR 6, 94 characters, G0
	setRomaji       // ISO-IR 14, JIS X 0201 Roman, G0 (decoded as ASCII)
	setKatakana     // ISO-IR 13, JIS X 0201 Katakana, G1 (or G0 via ESC ( I)
	setLatin1       // ISO-IR 100, ISO 8859-1, G1 96-set
	setLatin2       // ISO-IR 101, ISO 8859-2
	setLatin3       // ISO-IR 109, ISO 8859-3
	setLatin4       // ISO-IR 110, ISO 8859-4
	setCyrillic     // ISO-IR 144, ISO 8859-5
	setArabic       // ISO-IR 127, ISO 8859-6
	setGreek        // ISO-IR 126, ISO 8859-7
	setHebrew       // ISO-IR 138, ISO 8859-8
	setLatin5       // ISO-IR 148, ISO 8859-9
	setLatin9       // ISO-IR 203, ISO 8859-15
	setThai         // ISO-IR 166, TIS 620-2533
	setJIS0208      // ISO-IR 87, JIS X 0208, 94x94, G0
	setJIS0212      // ISO-IR 159, JIS X 0212, 94x94, G0
	setKSC          // ISO-IR 149, KS X 1001, 94x94, G1
	setGB2312       // ISO-IR 58, GB 2312, 94x94, G1
	numSets
)

// setInfo describes a code element: its 96-set table (single-byte sets of
// the upper half), or the EUC encoding its double-byte characters are
// looked up in.
type setInfo struct {
	double bool             // 94x94 set: two bytes per character
	table  *charmap.Charmap // 96-set: the upper half of this table
	euc    encoding.Encoding
	prefix byte // EUC prefix byte (0x8F for JIS X 0212)
	g0esc  string
	g1esc  string
}

var sets = [numSets]setInfo{
	setASCII:    {g0esc: "(B"},
	setRomaji:   {g0esc: "(J"},
	setKatakana: {g1esc: ")I"},
	setLatin1:   {table: charmap.ISO8859_1, g1esc: "-A"},
	setLatin2:   {table: charmap.ISO8859_2, g1esc: "-B"},
	setLatin3:   {table: charmap.ISO8859_3, g1esc: "-C"},
	setLatin4:   {table: charmap.ISO8859_4, g1esc: "-D"},
	setCyrillic: {table: charmap.ISO8859_5, g1esc: "-L"},
	setArabic:   {table: charmap.ISO8859_6, g1esc: "-G"},
	setGreek:    {table: charmap.ISO8859_7, g1esc: "-F"},
	setHebrew:   {table: charmap.ISO8859_8, g1esc: "-H"},
	setLatin5:   {table: charmap.ISO8859_9, g1esc: "-M"},
	setLatin9:   {table: charmap.ISO8859_15, g1esc: "-b"},
	setThai:     {table: charmap.Windows874, g1esc: "-T"}, // equal to TIS 620 in 0xA0..0xFF
	setJIS0208:  {double: true, euc: japanese.EUCJP, g0esc: "$B"},
	setJIS0212:  {double: true, euc: japanese.EUCJP, prefix: 0x8F, g0esc: "$(D"},
	setKSC:      {double: true, euc: korean.EUCKR, g1esc: "$)C"},
	setGB2312:   {double: true, euc: simplifiedchinese.GB18030, g1esc: "$)A"}, // GB18030 pairs: A2E3 is €
}

// escape is one recognised escape sequence (the bytes after ESC).
type escape struct {
	seq string
	g1  bool // designates G1, else G0
	set set
}

// escapes lists every sequence the decoder understands, whether or not the
// value's Specific Character Set declares it. Besides PS3.3 Tables C.12-3
// and C.12-4 it accepts a few sequences seen in the wild (JIS C 6226-1978,
// katakana or GB 2312 / KS X 1001 in G0).
var escapes = []escape{
	{"(B", false, setASCII},
	{"(J", false, setRomaji},
	{"(I", false, setKatakana},
	{")I", true, setKatakana},
	{"-A", true, setLatin1},
	{"-B", true, setLatin2},
	{"-C", true, setLatin3},
	{"-D", true, setLatin4},
	{"-L", true, setCyrillic},
	{"-G", true, setArabic},
	{"-F", true, setGreek},
	{"-H", true, setHebrew},
	{"-M", true, setLatin5},
	{"-b", true, setLatin9},
	{"-T", true, setThai},
	{"$B", false, setJIS0208},
	{"$@", false, setJIS0208},
	{"$(B", false, setJIS0208},
	{"$(D", false, setJIS0212},
	{"$)C", true, setKSC},
	{"$)A", true, setGB2312},
	{"$(C", false, setKSC},
	{"$A", false, setGB2312},
	{"$(A", false, setGB2312},
}

// whole is a character encoding decoded as a whole byte stream, without
// ISO 2022 code extensions: UTF-8, GB18030, GBK, and the fallback-only
// encodings.
type whole struct {
	enc encoding.Encoding // nil for UTF-8
	// legitFFFD is the encoding of U+FFFD itself, which is not a
	// substitution when it occurs in the input.
	legitFFFD string
}

// termInfo is one Specific Character Set term.
type termInfo struct {
	name  string // canonical spelling
	dicom bool   // a DICOM defined term (else a fallback-only name)
	ext   bool   // an ISO 2022 term (code extensions)
	g0    set    // initial G0 when the term is value 1
	g1    set    // initial G1 when value 1; for double-byte terms, the set designated by escape
	whole *whole // non-ISO 2022 multi-byte or full-byte encoding
}

var (
	wholeUTF8    = &whole{}
	wholeGB18030 = &whole{enc: simplifiedchinese.GB18030, legitFFFD: "\x84\x31\xA4\x37"}
	wholeGBK     = &whole{enc: simplifiedchinese.GBK}
	wholeSJIS    = &whole{enc: japanese.ShiftJIS}
)

var termList = []termInfo{
	{name: "ISO_IR 6", dicom: true, g0: setASCII},
	{name: "ISO_IR 100", dicom: true, g0: setASCII, g1: setLatin1},
	{name: "ISO_IR 101", dicom: true, g0: setASCII, g1: setLatin2},
	{name: "ISO_IR 109", dicom: true, g0: setASCII, g1: setLatin3},
	{name: "ISO_IR 110", dicom: true, g0: setASCII, g1: setLatin4},
	{name: "ISO_IR 144", dicom: true, g0: setASCII, g1: setCyrillic},
	{name: "ISO_IR 127", dicom: true, g0: setASCII, g1: setArabic},
	{name: "ISO_IR 126", dicom: true, g0: setASCII, g1: setGreek},
	{name: "ISO_IR 138", dicom: true, g0: setASCII, g1: setHebrew},
	{name: "ISO_IR 148", dicom: true, g0: setASCII, g1: setLatin5},
	{name: "ISO_IR 203", dicom: true, g0: setASCII, g1: setLatin9},
	{name: "ISO_IR 166", dicom: true, g0: setASCII, g1: setThai},
	// ISO_IR 13 is decoded as Shift_JIS, a superset of JIS X 0201 that many
	// Japanese writers put in values labelled ISO_IR 13.
	{name: "ISO_IR 13", dicom: true, g0: setRomaji, g1: setKatakana, whole: wholeSJIS},
	{name: "ISO_IR 192", dicom: true, whole: wholeUTF8},
	{name: "GB18030", dicom: true, whole: wholeGB18030},
	{name: "GBK", dicom: true, whole: wholeGBK},

	{name: "ISO 2022 IR 6", dicom: true, ext: true, g0: setASCII},
	{name: "ISO 2022 IR 100", dicom: true, ext: true, g0: setASCII, g1: setLatin1},
	{name: "ISO 2022 IR 101", dicom: true, ext: true, g0: setASCII, g1: setLatin2},
	{name: "ISO 2022 IR 109", dicom: true, ext: true, g0: setASCII, g1: setLatin3},
	{name: "ISO 2022 IR 110", dicom: true, ext: true, g0: setASCII, g1: setLatin4},
	{name: "ISO 2022 IR 144", dicom: true, ext: true, g0: setASCII, g1: setCyrillic},
	{name: "ISO 2022 IR 127", dicom: true, ext: true, g0: setASCII, g1: setArabic},
	{name: "ISO 2022 IR 126", dicom: true, ext: true, g0: setASCII, g1: setGreek},
	{name: "ISO 2022 IR 138", dicom: true, ext: true, g0: setASCII, g1: setHebrew},
	{name: "ISO 2022 IR 148", dicom: true, ext: true, g0: setASCII, g1: setLatin5},
	{name: "ISO 2022 IR 203", dicom: true, ext: true, g0: setASCII, g1: setLatin9},
	{name: "ISO 2022 IR 166", dicom: true, ext: true, g0: setASCII, g1: setThai},
	{name: "ISO 2022 IR 13", dicom: true, ext: true, g0: setRomaji, g1: setKatakana},
	{name: "ISO 2022 IR 87", dicom: true, ext: true, g1: setJIS0208},
	{name: "ISO 2022 IR 159", dicom: true, ext: true, g1: setJIS0212},
	{name: "ISO 2022 IR 149", dicom: true, ext: true, g1: setKSC},
	{name: "ISO 2022 IR 58", dicom: true, ext: true, g1: setGB2312},

	// Fallback-only names: not DICOM terms, accepted by WithFallback and
	// WithOverride (and tolerated in (0008,0005)) for files written with a
	// platform code page.
	{name: "WINDOWS-1250", whole: &whole{enc: charmap.Windows1250}},
	{name: "WINDOWS-1251", whole: &whole{enc: charmap.Windows1251}},
	{name: "WINDOWS-1252", whole: &whole{enc: charmap.Windows1252}},
	{name: "WINDOWS-1253", whole: &whole{enc: charmap.Windows1253}},
	{name: "WINDOWS-1254", whole: &whole{enc: charmap.Windows1254}},
	{name: "WINDOWS-1255", whole: &whole{enc: charmap.Windows1255}},
	{name: "WINDOWS-1256", whole: &whole{enc: charmap.Windows1256}},
	{name: "WINDOWS-1257", whole: &whole{enc: charmap.Windows1257}},
	{name: "WINDOWS-1258", whole: &whole{enc: charmap.Windows1258}},
	{name: "KOI8-R", whole: &whole{enc: charmap.KOI8R}},
	{name: "KOI8-U", whole: &whole{enc: charmap.KOI8U}},
	{name: "SHIFT_JIS", whole: wholeSJIS},
	{name: "EUC-JP", whole: &whole{enc: japanese.EUCJP}},
	{name: "EUC-KR", whole: &whole{enc: korean.EUCKR}},
	{name: "BIG5", whole: &whole{enc: traditionalchinese.Big5}},
}

// aliases maps squeezed spellings (see squeeze) that are not the squeezed
// canonical name to a canonical name.
var aliases = map[string]string{
	"UTF8":      "ISO_IR 192",
	"ISO88591":  "ISO_IR 100",
	"LATIN1":    "ISO_IR 100",
	"ISO88592":  "ISO_IR 101",
	"ISO88593":  "ISO_IR 109",
	"ISO88594":  "ISO_IR 110",
	"ISO88595":  "ISO_IR 144",
	"ISO88596":  "ISO_IR 127",
	"ISO88597":  "ISO_IR 126",
	"ISO88598":  "ISO_IR 138",
	"ISO88599":  "ISO_IR 148",
	"ISO885915": "ISO_IR 203",
	"ISO885911": "ISO_IR 166",
	"TIS620":    "ISO_IR 166",
	"GB2312":    "GBK",
	"CP936":     "GBK",
	"CP1250":    "WINDOWS-1250",
	"CP1251":    "WINDOWS-1251",
	"CP1252":    "WINDOWS-1252",
	"CP1253":    "WINDOWS-1253",
	"CP1254":    "WINDOWS-1254",
	"CP1255":    "WINDOWS-1255",
	"CP1256":    "WINDOWS-1256",
	"CP1257":    "WINDOWS-1257",
	"CP1258":    "WINDOWS-1258",
	"SJIS":      "SHIFT_JIS",
	"CP932":     "SHIFT_JIS",
	"CP949":     "EUC-KR",
}

// squeeze upper-cases a term and drops spaces, '_' and '-', so that
// "iso_ir100", "ISO-IR 100" and "ISO_IR 100" compare equal.
func squeeze(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '_' || c == '-' || c == 0:
		case 'a' <= c && c <= 'z':
			b.WriteByte(c - 'a' + 'A')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// termIndex maps squeezed names to terms; built once, never modified.
var termIndex = func() map[string]*termInfo {
	m := make(map[string]*termInfo, len(termList)+len(aliases))
	for i := range termList {
		m[squeeze(termList[i].name)] = &termList[i]
	}
	for a, name := range aliases {
		m[a] = m[squeeze(name)]
	}
	return m
}()

// lookup finds a term by any accepted spelling; nil when unknown.
func lookup(term string) *termInfo {
	return termIndex[squeeze(term)]
}

// Known reports whether term is a Specific Character Set term (or a
// fallback-only encoding name such as "Windows-1251") that this package
// decodes. Spelling is lenient: case, spaces, '_' and '-' are ignored, and
// common aliases ("UTF-8", "ISO-8859-5", "latin1", "GB2312") are accepted.
func Known(term string) bool { return lookup(term) != nil }

// Terms lists the canonical names of every term Known accepts: first the
// DICOM defined terms, then the fallback-only encodings. The caller owns
// the returned slice.
func Terms() []string {
	out := make([]string, len(termList))
	for i := range termList {
		out[i] = termList[i].name
	}
	return out
}
