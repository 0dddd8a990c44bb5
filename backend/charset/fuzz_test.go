package charset

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzSeeds are real values: Annex H/I/J examples and the corpus names.
var fuzzSeeds = []struct{ scs, vr, raw string }{
	{`\ISO 2022 IR 87`, "PN", "Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B=\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B"},
	{`ISO 2022 IR 13\ISO 2022 IR 87`, "PN", "\xd4\xcf\xc0\xde^\xc0\xdb\xb3=\x1b$B;3ED\x1b(J^\x1b$BB@O:\x1b(J=\x1b$B$d$^$@\x1b(J^\x1b$B$?$m$&\x1b(J"},
	{`\ISO 2022 IR 149`, "PN", "Hong^Gildong=\x1b$)C\xfb\xf3^\x1b$)C\xd1\xce\xd4\xd7=\x1b$)C\xc8\xab^\x1b$)C\xb1\xe6\xb5\xbf"},
	{`\ISO 2022 IR 58`, "PN", "Zhang^XiaoDong=\x1b$)A\xd5\xc5^\x1b$)A\xd0\xa1\xb6\xab="},
	{`\ISO 2022 IR 87\ISO 2022 IR 159`, "PN", "Mori^Ogai=\x1b$B?9\x1b(B^\x1b$(Dl?\x1b$B30\x1b(B"},
	{`ISO 2022 IR 100\ISO 2022 IR 126`, "LO", "J\xe9r\xf4me=\x1b-F\xc4\xe9\xef\xed\x1b-A\\x"},
	{"GB18030", "LO", "\xd0\xd8\xb2\xbf\xbc\xec\xb2\xe9 \x81\\ \x952\x826"},
	{"GBK", "PN", "\xcd\xf5^\xd0\xa1\xb6\xab=\xd2\xbd\xd4\xba\x81\x5c"},
	{"ISO_IR 192", "LT", "Brust \xc3\x9c \xe8\x83\xb8\xe9\x83\xa8 \xf0\x9f\x98\x80\r\n"},
	{"ISO_IR 144", "PN", "\xbb\xee\xdace\xdc\xd1yp\xd3"},
	{"ISO_IR 13", "LO", "\x95\x5c\\\xb1"},
	{"ISO_IR 166", "ST", "\xca\xc1\xaa\xd2\xc2"},
	{"", "CS", "ORIGINAL\\PRIMARY "},
	{"KLINGON", "UI", "1.2.840\x00"},
}

func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s.scs, s.vr, []byte(s.raw))
	}
	// The corpus names, when the corpus is there (seeds only; the fuzz
	// target itself needs no files).
	if dir := fuzzCorpusDir(); dir != "" {
		files, _ := filepath.Glob(filepath.Join(dir, "charset", "*", "*.dcm"))
		for _, file := range files {
			ds, err := readTestPart10(file)
			if err != nil {
				continue
			}
			scs := strings.Join(ds.scsOf(), `\`)
			for tag, vr := range map[uint32]string{tagPatientName: "PN", tagStudyDescription: "LO", tagInstitutionName: "LO"} {
				if raw, ok := ds.values[tag]; ok {
					f.Add(scs, vr, raw)
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, scs, vr string, raw []byte) {
		d := NewDecoder(strings.Split(scs, `\`), WithFallback("ISO_IR 100"))
		s, bad := d.Decode(vr, raw)
		if !utf8.ValidString(s) {
			t.Fatalf("invalid UTF-8 %q", s)
		}
		vals, bad2 := d.DecodeValues(vr, raw)
		if bad != bad2 {
			t.Fatalf("substituted %v from Decode, %v from DecodeValues", bad, bad2)
		}
		for _, v := range vals {
			if !utf8.ValidString(v) {
				t.Fatalf("invalid UTF-8 value %q", v)
			}
		}
		if strings.Join(vals, `\`) != s {
			t.Fatalf("Decode %q but DecodeValues %q", s, vals)
		}
		if strings.ContainsRune(s, utf8.RuneError) && !bad && !strings.Contains(string(raw), "\xef\xbf\xbd") &&
			!strings.Contains(string(raw), "\x84\x31\xa4\x37") {
			t.Fatalf("U+FFFD in %q without substitution", s)
		}
		// Printable ASCII reads as itself in every supported set.
		ascii := true
		for _, c := range raw {
			if c < 0x20 || c > 0x7E {
				ascii = false
				break
			}
		}
		if ascii {
			lt, bad := d.Decode("LT", raw)
			if want := strings.TrimRight(string(raw), " "); lt != want || bad {
				t.Fatalf("ASCII %q decoded as %q (substituted %v) with %q", raw, lt, bad, d.Effective())
			}
		}
	})
}

// FuzzEncode: whatever Encode accepts decodes back to the same string.
func FuzzEncode(f *testing.F) {
	for i, s := range []string{"Yamada^Tarou=山田^太郎=やまだ^たろう", "ﾔﾏﾀﾞ^ﾀﾛｳ=山田", "Hong^Gildong=洪^吉洞=홍^길동",
		"Wang^XiaoDong=王^小东=", "Люкceмбypг*", "Διονυσιος?", "Jérôme\\Doe", "สมชาย", "Mori^Ogai=森^鷗外"} {
		f.Add(uint8(i*3), s)
	}
	f.Fuzz(func(t *testing.T, which uint8, s string) {
		term := encodableTerms[int(which)%len(encodableTerms)]
		raw, scs, err := Encode(term, s)
		if err != nil {
			return
		}
		got, bad := NewDecoder(strings.Split(scs, `\`)).Decode("LT", raw)
		if want := strings.TrimRight(s, " \x00"); got != want || bad {
			t.Fatalf("%s: %q -> %q (%q) -> %q (substituted %v)", term, s, raw, scs, got, bad)
		}
	})
}

func fuzzCorpusDir() string {
	dir := os.Getenv("LIGHTBOX_CORPUS")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "lightbox", "corpus")
	}
	if _, err := os.Stat(filepath.Join(dir, "manifest.tsv")); err != nil {
		return ""
	}
	return dir
}
