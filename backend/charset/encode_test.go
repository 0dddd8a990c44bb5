package charset

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestEncodeAnnexExamples: the bytes PS3.5 prints for Annexes H, I and J.
func TestEncodeAnnexExamples(t *testing.T) {
	tests := []struct {
		term, s, wantRaw, wantSCS string
	}{
		{"ISO 2022 IR 87", "Yamada^Tarou=山田^太郎=やまだ^たろう",
			"Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B=\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B", `\ISO 2022 IR 87`},
		{"ISO 2022 IR 87", "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう",
			"\xd4\xcf\xc0\xde^\xc0\xdb\xb3=\x1b$B;3ED\x1b(J^\x1b$BB@O:\x1b(J=\x1b$B$d$^$@\x1b(J^\x1b$B$?$m$&\x1b(J",
			`ISO 2022 IR 13\ISO 2022 IR 87`},
		{"ISO 2022 IR 149", "Hong^Gildong=洪^吉洞=홍^길동",
			"Hong^Gildong=\x1b$)C\xfb\xf3^\x1b$)C\xd1\xce\xd4\xd7=\x1b$)C\xc8\xab^\x1b$)C\xb1\xe6\xb5\xbf", `\ISO 2022 IR 149`},
		{"ISO 2022 IR 58", "Zhang^XiaoDong=张^小东=",
			"Zhang^XiaoDong=\x1b$)A\xd5\xc5^\x1b$)A\xd0\xa1\xb6\xab=", `\ISO 2022 IR 58`},
		{"GB18030", "Wang^XiaoDong=王^小东=", "Wang^XiaoDong=\xcd\xf5^\xd0\xa1\xb6\xab=", "GB18030"},
		{"ISO_IR 192", "Wang^XiaoDong=王^小東=", "Wang^XiaoDong=\xe7\x8e\x8b^\xe5\xb0\x8f\xe6\x9d\xb1=", "ISO_IR 192"},
		{"", "Wang^XiaoDong=王^小東=", "Wang^XiaoDong=\xe7\x8e\x8b^\xe5\xb0\x8f\xe6\x9d\xb1=", "ISO_IR 192"},
		// Python codecs for the rest.
		{"ISO_IR 144", "Люкceмбypг", "\xbb\xee\xdace\xdc\xd1yp\xd3", "ISO_IR 144"},
		{"ISO_IR 126", "Διονυσιος", "\xc4\xe9\xef\xed\xf5\xf3\xe9\xef\xf2", "ISO_IR 126"},
		{"ISO_IR 127", "قباني^لنزار", "\xe2\xc8\xc7\xe6\xea^\xe4\xe6\xd2\xc7\xd1", "ISO_IR 127"},
		{"ISO_IR 138", "שרון^דבורה", "\xf9\xf8\xe5\xef^\xe3\xe1\xe5\xf8\xe4", "ISO_IR 138"},
		{"ISO_IR 166", "สมชาย^ใจดี", "\xca\xc1\xaa\xd2\xc2^\xe3\xa8\xb4\xd5", "ISO_IR 166"},
		{"ISO_IR 13", "ﾔﾏﾀﾞ^ﾀﾛｳ", "\xd4\xcf\xc0\xde^\xc0\xdb\xb3", "ISO_IR 13"},
		{"ISO_IR 6", "Smith^John", "Smith^John", ""},
		{"ISO 2022 IR 6", "Smith*", "Smith*", ""},
		{"ISO 2022 IR 100", "Jérôme", "J\xe9r\xf4me", "ISO 2022 IR 100"},
		{"ISO 2022 IR 87", "Mori^Ogai=森^鷗外", "Mori^Ogai=\x1b$B?9\x1b(B^\x1b$(Dl?\x1b$B30\x1b(B", `\ISO 2022 IR 87\ISO 2022 IR 159`},
		// Wildcards stay ASCII, after a return to G0 ASCII.
		{"ISO 2022 IR 87", "山田*", "\x1b$B;3ED\x1b(B*", `\ISO 2022 IR 87`},
		{"ISO 2022 IR 87", "?田", "?\x1b$BED\x1b(B", `\ISO 2022 IR 87`},
		{"ISO 2022 IR 149", "홍*", "\x1b$)C\xc8\xab*", `\ISO 2022 IR 149`},
		{"ISO 2022 IR 149", "Kim", "Kim", `\ISO 2022 IR 149`},
		{"GB18030", "王*", "\xcd\xf5*", "GB18030"},
	}
	for _, tc := range tests {
		raw, scs, err := Encode(tc.term, tc.s)
		if err != nil {
			t.Errorf("Encode(%q, %q): %v", tc.term, tc.s, err)
			continue
		}
		if string(raw) != tc.wantRaw || scs != tc.wantSCS {
			t.Errorf("Encode(%q, %q) = %q, %q; want %q, %q", tc.term, tc.s, raw, scs, tc.wantRaw, tc.wantSCS)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		term, s string
		want    error
	}{
		{"ISO_IR 100", "Иван", ErrUnrepresentable},
		{"ISO_IR 6", "Jérôme", ErrUnrepresentable},
		{"ISO 2022 IR 6", "Jérôme", ErrUnrepresentable},
		{"ISO 2022 IR 149", "สม", ErrUnrepresentable},
		{"ISO 2022 IR 87", "한", ErrUnrepresentable},
		{"ISO 2022 IR 13", "a~", ErrUnrepresentable},
		{"ISO_IR 13", "山", ErrUnrepresentable},
		{"ISO_IR 100", "\u0085", ErrUnrepresentable},
		{"GBK", "😀", ErrUnrepresentable},
		{"GB18030", "\ue002", ErrUnrepresentable},
		{"ISO 2022 IR 58", "\ue000", ErrUnrepresentable},
		{"ISO_IR 192", "a\x1bb", ErrUnrepresentable},
		{"ISO_IR 192", "a\xffb", ErrInvalidUTF8},
		{"ISO_IR 999", "a", ErrUnknownCharset},
		{"Windows-1251", "a", ErrUnknownCharset},
	}
	for _, tc := range tests {
		raw, _, err := Encode(tc.term, tc.s)
		if !errors.Is(err, tc.want) || raw != nil {
			t.Errorf("Encode(%q, %q) = %q, %v; want %v", tc.term, tc.s, raw, err, tc.want)
		}
	}
}

// encodableTerms lists every term Encode writes.
var encodableTerms = []string{
	"ISO_IR 192", "GB18030", "GBK", "ISO_IR 6", "ISO_IR 100", "ISO_IR 101", "ISO_IR 109", "ISO_IR 110", "ISO_IR 126",
	"ISO_IR 127", "ISO_IR 138", "ISO_IR 144", "ISO_IR 148", "ISO_IR 166", "ISO_IR 203", "ISO_IR 13",
	"ISO 2022 IR 6", "ISO 2022 IR 100", "ISO 2022 IR 101", "ISO 2022 IR 109", "ISO 2022 IR 110", "ISO 2022 IR 126",
	"ISO 2022 IR 127", "ISO 2022 IR 138", "ISO 2022 IR 144", "ISO 2022 IR 148", "ISO 2022 IR 166", "ISO 2022 IR 203",
	"ISO 2022 IR 13", "ISO 2022 IR 87", "ISO 2022 IR 159", "ISO 2022 IR 149", "ISO 2022 IR 58",
}

// repertoire returns every character of the term's sets, found by decoding
// every code with the package's own decoder (so the test checks that
// decode and encode agree on the whole table).
func repertoire(t *testing.T, term string) []rune {
	t.Helper()
	info := lookup(term)
	var codes [][]byte
	switch {
	case term == "ISO_IR 192" || term == "GB18030":
		for r := rune(0x80); r < 0x30000; r += 7 { // a sample of every plane in use
			if utf8.ValidRune(r) && (r < 0xD800 || r > 0xDFFF) {
				codes = append(codes, []byte(string(r)))
			}
		}
		if term == "GB18030" {
			// Every Unicode character: sample it directly; private use
			// aside (see below).
			var out []rune
			for _, c := range codes {
				if r, _ := utf8.DecodeRune(c); r < 0xE000 || r > 0xF8FF {
					out = append(out, r)
				}
			}
			return out
		}
	case term == "GBK":
		for c0 := 0x81; c0 <= 0xFE; c0++ {
			for c1 := 0x40; c1 <= 0xFE; c1++ {
				if c1 != 0x7F {
					codes = append(codes, []byte{byte(c0), byte(c1)})
				}
			}
		}
	case info.g1 == setJIS0208 || info.g1 == setJIS0212 || info.g1 == setKSC || info.g1 == setGB2312:
		list := []set{info.g1}
		if info.g1 == setJIS0208 || info.g1 == setJIS0212 {
			list = []set{setJIS0208, setJIS0212, setKatakana}
		}
		for _, s := range list {
			var pre string
			if sets[s].g1esc != "" {
				pre = "\x1b" + sets[s].g1esc
			} else {
				pre = "\x1b" + sets[s].g0esc
			}
			hi := byte(0)
			if sets[s].g1esc != "" {
				hi = 0x80
			}
			if !sets[s].double {
				for c := 0xA1; c <= 0xDF; c++ {
					codes = append(codes, []byte(pre+string([]byte{byte(c)})))
				}
				continue
			}
			for c0 := 0x21; c0 <= 0x7E; c0++ {
				for c1 := 0x21; c1 <= 0x7E; c1++ {
					codes = append(codes, []byte(pre+string([]byte{byte(c0) | hi, byte(c1) | hi})))
				}
			}
		}
	default: // single-byte sets
		for c := 0xA0; c <= 0xFF; c++ {
			codes = append(codes, []byte{byte(c)})
		}
	}
	scs := []string{term}
	if info.ext {
		scs = []string{"", term}
	}
	d := NewDecoder(scs)
	var out []rune
	for _, c := range codes {
		s, bad := d.Decode("LT", c)
		if !bad && s != "" {
			out = append(out, []rune(s)...)
		}
	}
	if term == "GB18030" || term == "ISO 2022 IR 58" {
		// Private-use characters do not round-trip through x/text's
		// GB18030 tables; Encode refuses them (TestEncodeErrors).
		out = slices.DeleteFunc(out, func(r rune) bool { return r >= 0xE000 && r <= 0xF8FF })
	}
	return out
}

// TestEncodeRoundTrip encodes every character of every set Encode writes
// (with wildcards, delimiters and ASCII around it) and decodes it back.
func TestEncodeRoundTrip(t *testing.T) {
	for _, term := range encodableTerms {
		rs := repertoire(t, term)
		if term != "ISO_IR 6" && term != "ISO 2022 IR 6" && len(rs) < 40 {
			t.Errorf("%s: only %d characters in the repertoire", term, len(rs))
		}
		// Chunks of 50 characters, joined by delimiters and wildcards.
		var chunks []string
		for i := 0; i < len(rs); i += 50 {
			chunk := rs[i:min(i+50, len(rs))]
			chunks = append(chunks, "A*"+string(chunk[:len(chunk)/2])+"^b?"+string(chunk[len(chunk)/2:])+"=c")
		}
		chunks = append(chunks, "Doe^John*=?")
		for _, s := range chunks {
			raw, scs, err := Encode(term, s)
			if err != nil {
				t.Errorf("%s: Encode: %v", term, err)
				break
			}
			d := NewDecoder(strings.Split(scs, `\`))
			for _, vr := range []string{"LT", "PN", "LO"} {
				got, bad := d.Decode(vr, raw)
				want := s
				if vr == "PN" {
					want = trimPN(s)
				}
				if got != want || bad {
					t.Errorf("%s %s: round trip %q -> %q -> %q (substituted %v)", term, vr, s, raw, got, bad)
					break
				}
			}
		}
		t.Logf("%s: %d characters", term, len(rs))
	}
}
