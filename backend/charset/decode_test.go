package charset

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// Raw bytes below come from PS3.5 Annexes H, I and J where the standard
// prints them, otherwise from Python's codecs (latin-1, iso8859_x, tis_620,
// shift_jis, gb18030, gbk, iso2022_jp_2), an implementation independent of
// golang.org/x/text.

// TestDecodePerTerm decodes a known string for every term.
func TestDecodePerTerm(t *testing.T) {
	tests := []struct {
		scs  string // (0008,0005), values separated by '\'
		raw  string
		want string
	}{
		{"", "Smith^John", "Smith^John"},
		{"ISO_IR 6", "Smith^John", "Smith^John"},
		{"ISO_IR 100", "\xc5ngstr\xf6m^\xd8yvind", "Ångström^Øyvind"},
		{"ISO_IR 101", "Dvo\xf8\xe1k^Anton\xedn", "Dvořák^Antonín"},
		{"ISO_IR 109", "G\xb1arg\xb1ur^\xc5ensu", "Għargħur^Ċensu"},
		{"ISO_IR 110", "\xaeemait\xec^\xd3\xeastutis", "Žemaitė^Ķęstutis"},
		{"ISO_IR 144", "\xbb\xee\xdace\xdc\xd1yp\xd3", "Люкceмбypг"},
		{"ISO_IR 144", "\xb8\xd2\xd0\xdd\xde\xd2^\xbf\xf1\xe2\xe0", "Иванов^Пётр"},
		{"ISO_IR 127", "\xe2\xc8\xc7\xe6\xea^\xe4\xe6\xd2\xc7\xd1", "قباني^لنزار"},
		{"ISO_IR 126", "\xc4\xe9\xef\xed\xf5\xf3\xe9\xef\xf2", "Διονυσιος"},
		{"ISO_IR 138", "\xf9\xf8\xe5\xef^\xe3\xe1\xe5\xf8\xe4", "שרון^דבורה"},
		{"ISO_IR 148", "\xd6zt\xfcrk^\xde\xfckr\xfc", "Öztürk^Şükrü"},
		{"ISO_IR 203", "\xbcuvre^Zo\xeb \xa4", "Œuvre^Zoë €"},
		{"ISO_IR 166", "\xca\xc1\xaa\xd2\xc2^\xe3\xa8\xb4\xd5", "สมชาย^ใจดี"},
		{"ISO_IR 13", "\xd4\xcf\xc0\xde^\xc0\xdb\xb3", "ﾔﾏﾀﾞ^ﾀﾛｳ"},
		// Annex J.2 (UTF-8), J.1 (GB18030), trailing empty group dropped.
		{"ISO_IR 192", "Wang^XiaoDong=\xe7\x8e\x8b^\xe5\xb0\x8f\xe6\x9d\xb1=", "Wang^XiaoDong=王^小東"},
		{"GB18030", "Wang^XiaoDong=\xcd\xf5^\xd0\xa1\xb6\xab=", "Wang^XiaoDong=王^小东"},
		{"GB18030", "\x952\x826^\x81\x5c", "𠀀^乗"}, // four-byte form; 0x5C trail byte
		{"GBK", "\xcd\xf5^\xd0\xa1\xb6\xab=\xd2\xbd\xd4\xba\x81\x5c", "王^小东=医院乗"},
		// Annex H example 1 and 2.
		{`\ISO 2022 IR 87`, "Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B=\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B",
			"Yamada^Tarou=山田^太郎=やまだ^たろう"},
		{`ISO 2022 IR 13\ISO 2022 IR 87`, "\xd4\xcf\xc0\xde^\xc0\xdb\xb3=\x1b$B;3ED\x1b(J^\x1b$BB@O:\x1b(J=\x1b$B$d$^$@\x1b(J^\x1b$B$?$m$&\x1b(J",
			"ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう"},
		// Annex I.
		{`\ISO 2022 IR 149`, "Hong^Gildong=\x1b$)C\xfb\xf3^\x1b$)C\xd1\xce\xd4\xd7=\x1b$)C\xc8\xab^\x1b$)C\xb1\xe6\xb5\xbf",
			"Hong^Gildong=洪^吉洞=홍^길동"},
		// Annex J.3 (GB 2312 with code extensions).
		{`\ISO 2022 IR 58`, "Zhang^XiaoDong=\x1b$)A\xd5\xc5^\x1b$)A\xd0\xa1\xb6\xab=", "Zhang^XiaoDong=张^小东"},
		// JIS X 0212 (鷗 is not in JIS X 0208).
		{`\ISO 2022 IR 87\ISO 2022 IR 159`, "Mori^Ogai=\x1b$B?9\x1b(B^\x1b$(Dl?\x1b$B30\x1b(B", "Mori^Ogai=森^鷗外"},
		// Single-byte sets with code extensions: Latin-1 initial, Greek by escape.
		{`ISO 2022 IR 100\ISO 2022 IR 126`, "J\xe9r\xf4me=\x1b-F\xc4\xe9\xef\xed\x1b-A", "Jérôme=Διον"},
		{`ISO 2022 IR 100\ISO 2022 IR 144`, "\x1b-L\xbb\xee\xdace\xdc\xd1yp\xd3", "Люкceмбypг"},
		{`ISO 2022 IR 6\ISO 2022 IR 138`, "\x1b-H\xf9\xf8\xe5\xef", "שרון"},
		{`ISO 2022 IR 166`, "\xca\xc1\xaa\xd2\xc2", "สมชาย"},
		{`ISO 2022 IR 101`, "Dvo\xf8\xe1k", "Dvořák"},
		{`ISO 2022 IR 109`, "\xc5ensu", "Ċensu"},
		{`ISO 2022 IR 110`, "\xaeemait\xec", "Žemaitė"},
		{`ISO 2022 IR 127`, "\xe2\xc8\xc7\xe6\xea", "قباني"},
		{`ISO 2022 IR 148`, "\xd6zt\xfcrk", "Öztürk"},
		{`ISO 2022 IR 203`, "\xbcuvre \xa4", "Œuvre €"},
		{`ISO 2022 IR 13`, "\xd4\xcf\xc0\xde", "ﾔﾏﾀﾞ"},
		// Lenient spellings of the term.
		{"iso_ir 100", "J\xe9r\xf4me", "Jérôme"},
		{"UTF-8", "\xe7\x8e\x8b", "王"},
		{"ISO-8859-5", "\xbf\xf1\xe2\xe0", "Пётр"},
	}
	for _, tc := range tests {
		t.Run(tc.scs+"/"+tc.want, func(t *testing.T) {
			d := NewDecoder(strings.Split(tc.scs, `\`))
			if u := d.Unknown(); len(u) != 0 {
				t.Errorf("Unknown() = %q", u)
			}
			got, bad := d.Decode("PN", []byte(tc.raw))
			if got != tc.want || bad {
				t.Errorf("Decode = %q (substituted %v), want %q", got, bad, tc.want)
			}
		})
	}
}

// TestDecodeResets checks where ISO 2022 designations return to their
// initial state: at '^' and '=' only in PN, at '\' in multi-valued VRs, at
// CR, LF, TAB and FF always.
func TestDecodeResets(t *testing.T) {
	d := NewDecoder([]string{"ISO 2022 IR 100", "ISO 2022 IR 126"})
	tests := []struct {
		vr, raw string
		want    []string
	}{
		{"PN", "\x1b-F\xc4^\xc4", []string{"Δ^Ä"}},
		{"PN", "\x1b-F\xc4=\xc4", []string{"Δ=Ä"}},
		{"LO", "\x1b-F\xc4^\xc4", []string{"Δ^Δ"}},
		{"LO", "\x1b-F\xc4\\\xc4", []string{"Δ", "Ä"}},
		{"PN", "\x1b-F\xc4\\\xc4", []string{"Δ", "Ä"}},
		{"ST", "\x1b-F\xc4\\\xc4", []string{"Δ\\Δ"}},
		{"LT", "\x1b-F\xc4\r\n\xc4", []string{"Δ\r\nÄ"}},
		{"LT", "\x1b-F\xc4\t\xc4", []string{"Δ\tÄ"}},
		{"LT", "\x1b-F\xc4\f\xc4", []string{"Δ\fÄ"}},
		{"UT", "\x1b-F\xc4\n\xc4", []string{"Δ\nÄ"}},
	}
	for _, tc := range tests {
		got, bad := d.DecodeValues(tc.vr, []byte(tc.raw))
		if !slices.Equal(got, tc.want) || bad {
			t.Errorf("%s %q: %q (substituted %v), want %q", tc.vr, tc.raw, got, bad, tc.want)
		}
	}

	// A G1 set designated by escape ends at '^' in PN, not in LO.
	k := NewDecoder([]string{"ISO 2022 IR 100", "ISO 2022 IR 149"})
	if got, _ := k.Decode("PN", []byte("\x1b$)C\xb1\xe8^\xb1\xe8")); got != "김^±è" {
		t.Errorf("PN: %q", got)
	}
	if got, _ := k.Decode("LO", []byte("\x1b$)C\xb1\xe8^\xb1\xe8")); got != "김^김" {
		t.Errorf("LO: %q", got)
	}
	// In G0 JIS X 0208 a '^' byte is half of a character, never a
	// delimiter: "^$" is EUC DE A4, 泙 according to Python's euc_jp, and
	// the lone "d" is invalid.
	j := NewDecoder([]string{"", "ISO 2022 IR 87"})
	if got, bad := j.Decode("PN", []byte("\x1b$B$d^$d")); got != "や泙\ufffd" || !bad {
		t.Errorf("JIS '^' byte: %q", got)
	}
}

// TestDecodeSplitAfterDecoding: byte 0x5C inside a character must not split
// the value.
func TestDecodeSplitAfterDecoding(t *testing.T) {
	tests := []struct {
		name string
		d    *Decoder
		vr   string
		raw  string
		want []string
	}{
		{"GB18030 trail 0x5C", NewDecoder([]string{"GB18030"}), "LO", "\xd2\xbd\xd4\xba\x81\x5c\\\x81\x5c", []string{"医院乗", "乗"}},
		{"GBK trail 0x5C", NewDecoder([]string{"GBK"}), "PN", "\x81\x5c^A\\B", []string{"乗^A", "B"}},
		{"JIS X 0208 byte 0x5C", NewDecoder([]string{"ISO 2022 IR 6", "ISO 2022 IR 87"}), "LO",
			"\x1b$B6;ItP\x5c8!::\x1b(B\\x", []string{"胸部俑検査", "x"}},
		{"Shift_JIS under ISO_IR 13", NewDecoder([]string{"ISO_IR 13"}), "LO", "\x95\x5c\\\xb1", []string{"表", "ｱ"}},
		{"Shift_JIS fallback", NewDecoder(nil, WithFallback("Shift_JIS")), "LO", "\x95\x5c\\a", []string{"表", "a"}},
		{"Big5 fallback", NewDecoder(nil, WithFallback("Big5")), "LO", "\xa5\x5c\\a", []string{"功", "a"}},
		{"UTF-8", NewDecoder([]string{"ISO_IR 192"}), "PN", "\xe7\x8e\x8b\\\xe5\xb0\x8f", []string{"王", "小"}},
	}
	for _, tc := range tests {
		got, bad := tc.d.DecodeValues(tc.vr, []byte(tc.raw))
		if !slices.Equal(got, tc.want) || bad {
			t.Errorf("%s: %q (substituted %v), want %q", tc.name, got, bad, tc.want)
		}
		joined, _ := tc.d.Decode(tc.vr, []byte(tc.raw))
		if joined != strings.Join(tc.want, `\`) {
			t.Errorf("%s: Decode = %q", tc.name, joined)
		}
	}
}

// TestDecodeInvalid: invalid bytes become U+FFFD and are reported; the
// rest of the value survives.
func TestDecodeInvalid(t *testing.T) {
	tests := []struct {
		name string
		scs  []string
		vr   string
		raw  string
		want string
	}{
		{"high byte, no charset", nil, "PN", "Jos\xe9", "Jos\ufffd"},
		{"C1 in Latin-1", []string{"ISO_IR 100"}, "LO", "a\x85b", "a\ufffdb"},
		{"undefined in 8859-3", []string{"ISO_IR 109"}, "LO", "a\xa5b", "a\ufffdb"},
		{"undefined in TIS 620", []string{"ISO_IR 166"}, "LO", "a\xdbb", "a\ufffdb"},
		{"bad UTF-8", []string{"ISO_IR 192"}, "LO", "a\xff\xe7\x8eb", "a\ufffd\ufffd\ufffdb"},
		{"truncated GB18030", []string{"GB18030"}, "LO", "a\xcd", "a\ufffd"},
		{"unknown escape", []string{"", "ISO 2022 IR 87"}, "LO", "a\x1b$Zb", "a\ufffdb"},
		{"lone ESC at end", []string{"", "ISO 2022 IR 87"}, "LO", "a\x1b", "a\ufffd"},
		{"odd JIS byte", []string{"", "ISO 2022 IR 87"}, "LO", "\x1b$B$d$\x1b(Bz", "や\ufffdz"},
		{"unassigned JIS pair", []string{"", "ISO 2022 IR 87"}, "LO", "\x1b$B\x7e\x7e\x1b(B", "\ufffd"},
		{"GR with nothing in G1", []string{"ISO 2022 IR 6", "ISO 2022 IR 87"}, "LO", "a\xc4", "a\ufffd"},
		{"half KS X 1001 pair", []string{"", "ISO 2022 IR 149"}, "LO", "\x1b$)C\xb1", "\ufffd"},
		{"katakana out of range", []string{"ISO 2022 IR 13"}, "LO", "\xe0", "\ufffd"},
		{"high byte in CS", []string{"ISO_IR 100"}, "CS", "H\xc9AD", "H\ufffdAD"},
		{"high byte in UI", []string{"ISO_IR 192"}, "UI", "1.2\xc3\xa9", "1.2\ufffd\ufffd"},
	}
	for _, tc := range tests {
		got, bad := NewDecoder(tc.scs).Decode(tc.vr, []byte(tc.raw))
		if got != tc.want || !bad {
			t.Errorf("%s: %q (substituted %v), want %q and substituted", tc.name, got, bad, tc.want)
		}
	}
	// A U+FFFD present in the input is not a substitution.
	for _, tc := range []struct {
		scs string
		raw string
	}{{"ISO_IR 192", "\xef\xbf\xbd"}, {"GB18030", "\x84\x31\xa4\x37"}} {
		got, bad := NewDecoder([]string{tc.scs}).Decode("LO", []byte(tc.raw))
		if got != "\ufffd" || bad {
			t.Errorf("%s literal U+FFFD: %q substituted %v", tc.scs, got, bad)
		}
	}
}

// TestDecodeLenientG1: high bytes with nothing designated to G1 use the
// first G1 set (0008,0005) lists (Korean files often omit ESC $ ) C).
func TestDecodeLenientG1(t *testing.T) {
	d := NewDecoder([]string{"", "ISO 2022 IR 149"})
	got, bad := d.Decode("PN", []byte("\xb1\xe8\xc8\xf1\xc1\xdf"))
	if got != "김희중" || bad {
		t.Errorf("got %q substituted %v", got, bad)
	}
}

// TestDecodeVRRules: padding and value rules per VR.
func TestDecodeVRRules(t *testing.T) {
	d := NewDecoder([]string{"ISO_IR 100"})
	tests := []struct {
		vr, raw, want string
	}{
		{"LO", "  J\xe9r\xf4me  ", "Jérôme"},
		{"SH", " a \\ b ", `a\b`},
		{"ST", "  indented \\ text  ", `  indented \ text`},
		{"LT", "line\r\n", "line\r\n"},
		{"UT", "x \x00", "x"},
		{"UI", "1.2.840\x00", "1.2.840"},
		{"CS", " ORIGINAL \\PRIMARY ", `ORIGINAL\PRIMARY`},
		{"PN", "^^^^", ""},
		{"PN", "Doe^John^^^", "Doe^John"},
		{"PN", "Doe^John^^^=", "Doe^John"},
		{"PN", "=Doe", "=Doe"},
		{"PN", "A^B\\C^D^ ", `A^B\C^D`},
		{"DA", "20240102 ", "20240102"},
		{"UR", "http://x/\xe9", "http://x/\ufffd"},
	}
	for _, tc := range tests {
		got, _ := d.Decode(tc.vr, []byte(tc.raw))
		if got != tc.want {
			t.Errorf("%s %q: %q, want %q", tc.vr, tc.raw, got, tc.want)
		}
	}
	vals, _ := d.DecodeValues("LO", nil)
	if len(vals) != 1 || vals[0] != "" {
		t.Errorf("empty value: %q", vals)
	}
}

// TestDecoderFallback covers absent, unknown and overridden character sets.
func TestDecoderFallback(t *testing.T) {
	tests := []struct {
		name        string
		scs         []string
		opts        []Option
		raw, want   string
		unknown     []string
		assumed     bool
		substituted bool
	}{
		{"absent, Latin-1 fallback", nil, []Option{WithFallback("ISO_IR 100")}, "J\xe9r\xf4me", "Jérôme", nil, true, false},
		{"empty, Windows-1251 fallback", []string{""}, []Option{WithFallback("Windows-1251")}, "\xcf\xb8\xf2\xf0", "Пётр", nil, true, false},
		{"ISO_IR 6, GB18030 fallback", []string{"ISO_IR 6"}, []Option{WithFallback("GB18030")}, "\xcd\xf5", "王", nil, true, false},
		{"absent, no fallback", nil, nil, "J\xe9r\xf4me", "J\ufffdr\ufffdme", nil, false, true},
		{"unknown term, fallback", []string{"ISO_IR 999"}, []Option{WithFallback("ISO_IR 144")}, "\xbf\xf1\xe2\xe0", "Пётр", []string{"ISO_IR 999"}, true, false},
		{"unknown term, no fallback", []string{"KLINGON"}, nil, "abc\xff", "abc\ufffd", []string{"KLINGON"}, false, true},
		{"unknown fallback", nil, []Option{WithFallback("EBCDIC")}, "abc", "abc", []string{"EBCDIC"}, false, false},
		{"known term wins over fallback", []string{"ISO_IR 126"}, []Option{WithFallback("ISO_IR 144")}, "\xc4", "Δ", nil, false, false},
		{"override wins over term", []string{"ISO_IR 100"}, []Option{WithOverride("Windows-1251")}, "\xcf\xb8\xf2\xf0", "Пётр", nil, true, false},
		{"unknown override ignored", []string{"ISO_IR 100"}, []Option{WithOverride("nope")}, "\xc4", "Ä", []string{"nope"}, false, false},
		{"one unknown of two", []string{"", "ISO 2022 IR 999", "ISO 2022 IR 149"}, nil, "\x1b$)C\xb1\xe8", "김", []string{"ISO 2022 IR 999"}, false, false},
		{"UTF-8 after another value", []string{"ISO_IR 100", "ISO_IR 192"}, nil, "\xc4", "Ä", []string{"ISO_IR 192"}, false, false},
		{"UTF-8 first of several", []string{"ISO_IR 192", "ISO 2022 IR 87"}, nil, "\xc3\x84", "Ä", []string{"ISO 2022 IR 87"}, false, false},
		{"ISO_IR 100 as value 1 of several", []string{"ISO_IR 100", "ISO 2022 IR 126"}, nil, "\xc4\x1b-F\xc4", "ÄΔ", nil, false, false},
	}
	for _, tc := range tests {
		d := NewDecoder(tc.scs, tc.opts...)
		got, bad := d.Decode("PN", []byte(tc.raw))
		if got != tc.want || bad != tc.substituted {
			t.Errorf("%s: %q (substituted %v), want %q (%v)", tc.name, got, bad, tc.want, tc.substituted)
		}
		if !slices.Equal(d.Unknown(), tc.unknown) {
			t.Errorf("%s: Unknown() = %q, want %q", tc.name, d.Unknown(), tc.unknown)
		}
		if d.Assumed() != tc.assumed {
			t.Errorf("%s: Assumed() = %v", tc.name, d.Assumed())
		}
	}
}

func TestDecoderItemAndEffective(t *testing.T) {
	d := NewDecoder([]string{"ISO_IR 192"}, WithFallback("ISO_IR 100"))
	if d.Item(nil) != d {
		t.Error("Item(nil) must return the parent decoder")
	}
	it := d.Item([]string{"", "ISO 2022 IR 149"})
	if got := it.Effective(); !slices.Equal(got, []string{"", "ISO 2022 IR 149"}) {
		t.Errorf("item Effective() = %q", got)
	}
	if got, _ := it.Decode("PN", []byte("\x1b$)C\xb1\xe8")); got != "김" {
		t.Errorf("item decode %q", got)
	}
	// The item decoder keeps the parent's fallback.
	if got, _ := d.Item([]string{}).Decode("PN", []byte("\xc4")); got != "Ä" {
		t.Errorf("item fallback %q", got)
	}
	if got := NewDecoder(nil).Effective(); got != nil {
		t.Errorf("default Effective() = %q", got)
	}
	if got := NewDecoder([]string{"iso-ir 100"}).Effective(); !slices.Equal(got, []string{"ISO_IR 100"}) {
		t.Errorf("Effective() = %q", got)
	}
}

func TestKnownAndTerms(t *testing.T) {
	for _, term := range Terms() {
		if !Known(term) {
			t.Errorf("Known(%q) = false for a listed term", term)
		}
	}
	for _, term := range []string{"ISO 2022 IR 87", "iso_ir 192", "UTF-8", "Windows-1251", "latin1", "GB2312"} {
		if !Known(term) {
			t.Errorf("Known(%q) = false", term)
		}
	}
	for _, term := range []string{"", "ISO_IR 999", "EBCDIC", "ISO 2022 IR 192"} {
		if Known(term) {
			t.Errorf("Known(%q) = true", term)
		}
	}
	// Every term the brief and the conformance statement name.
	for _, term := range []string{"ISO_IR 6", "ISO_IR 100", "ISO_IR 101", "ISO_IR 109", "ISO_IR 110", "ISO_IR 126",
		"ISO_IR 127", "ISO_IR 138", "ISO_IR 144", "ISO_IR 148", "ISO_IR 166", "ISO_IR 13", "ISO_IR 192", "GB18030", "GBK",
		"ISO 2022 IR 6", "ISO 2022 IR 100", "ISO 2022 IR 101", "ISO 2022 IR 109", "ISO 2022 IR 110", "ISO 2022 IR 126",
		"ISO 2022 IR 127", "ISO 2022 IR 138", "ISO 2022 IR 144", "ISO 2022 IR 148", "ISO 2022 IR 166", "ISO 2022 IR 13",
		"ISO 2022 IR 87", "ISO 2022 IR 159", "ISO 2022 IR 149", "ISO 2022 IR 58"} {
		if !slices.Contains(Terms(), term) {
			t.Errorf("Terms() lacks %q", term)
		}
	}
}

// TestDecodeAlwaysValidUTF8 feeds every single byte and pair through every
// term.
func TestDecodeAlwaysValidUTF8(t *testing.T) {
	for _, term := range Terms() {
		d := NewDecoder([]string{"", term})
		if lookup(term).whole != nil {
			d = NewDecoder([]string{term})
		}
		for c := 0; c < 256; c++ {
			for _, raw := range [][]byte{{byte(c)}, {0x1b, '$', byte(c)}, {byte(c), 0x5c, byte(c)}} {
				for _, vr := range []string{"PN", "LO", "LT", "CS"} {
					s, _ := d.Decode(vr, raw)
					if !utf8.ValidString(s) {
						t.Fatalf("%s %s % x: invalid UTF-8 %q", term, vr, raw, s)
					}
				}
			}
		}
	}
}
