package charset

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
)

// Encode converts the UTF-8 string s (a query key or any text value) into
// the character set named by term, the Encoding of a remote node ("" means
// ISO_IR 192). It returns the bytes and the value of (0008,0005) to send
// with them ("" for the default repertoire; values separated by '\').
//
// Terms Encode writes: ISO_IR 192, GB18030, GBK, ISO_IR 6, ISO_IR 100,
// 101, 109, 110, 126, 127, 138, 144, 148, 166, 203, ISO_IR 13, and the
// ISO 2022 forms ISO 2022 IR 6, 100, 101, 109, 110, 126, 127, 138, 144,
// 148, 166, 203, 13, 87, 159, 149 and 58. For ISO 2022 IR 87 the result
// declares "\ISO 2022 IR 87", or "ISO 2022 IR 13\ISO 2022 IR 87" when s
// holds half-width katakana, plus "\ISO 2022 IR 159" when a character is
// only in JIS X 0212.
//
// Errors wrap ErrInvalidUTF8, ErrUnknownCharset or ErrUnrepresentable.
func Encode(term, s string) (raw []byte, specificCharacterSet string, err error) {
	if !utf8.ValidString(s) {
		return nil, "", ErrInvalidUTF8
	}
	if i := strings.IndexByte(s, esc); i >= 0 {
		// ESC would start an escape sequence in the receiver's decoder.
		return nil, "", fmt.Errorf("%w: ESC at byte %d", ErrUnrepresentable, i)
	}
	if strings.Trim(term, " ") == "" {
		term = "ISO_IR 192"
	}
	t := lookup(term)
	if t == nil || !t.dicom {
		return nil, "", fmt.Errorf("%w: %q", ErrUnknownCharset, term)
	}
	switch {
	case t.name == "ISO_IR 192":
		return []byte(s), t.name, nil
	case t.name == "GB18030" || t.name == "GBK":
		raw, err = encodeWhole(t, s)
		return raw, t.name, err
	case t.name == "ISO_IR 13":
		raw, err = encodeSingle(t, s, setKatakana)
		return raw, t.name, err
	case !t.ext:
		name := t.name
		if t.g1 == setNone {
			name = "" // ISO_IR 6: the default repertoire
		}
		raw, err = encodeSingle(t, s, t.g1)
		return raw, name, err
	}
	return encode2022(t, s)
}

func unrepresentable(t *termInfo, r rune, at int) error {
	return fmt.Errorf("%w: %q (U+%04X) at byte %d in %s", ErrUnrepresentable, r, r, at, t.name)
}

// encodeWhole encodes with GB18030 or GBK, one character at a time so that
// the failing character can be named.
func encodeWhole(t *termInfo, s string) ([]byte, error) {
	enc := t.whole.enc.NewEncoder()
	out := make([]byte, 0, len(s))
	for i, r := range s {
		if r < utf8.RuneSelf {
			out = append(out, byte(r))
			continue
		}
		b, err := enc.Bytes([]byte(string(r)))
		if err != nil || len(b) == 0 || !decodesTo(t.whole.enc, b, r) {
			return nil, unrepresentable(t, r, i)
		}
		out = append(out, b...)
	}
	return out, nil
}

// encodeSingle encodes ASCII plus one upper-half set, without escapes.
func encodeSingle(t *termInfo, s string, g1 set) ([]byte, error) {
	enc := newSetEncoder()
	out := make([]byte, 0, len(s))
	for i, r := range s {
		if r < utf8.RuneSelf {
			out = append(out, byte(r))
			continue
		}
		b, ok := enc.encode(g1, r)
		if !ok {
			return nil, unrepresentable(t, r, i)
		}
		out = append(out, b...)
	}
	return out, nil
}

// setEncoder encodes single characters into code elements, keeping one
// x/text encoder per EUC table.
type setEncoder struct {
	euc map[encoding.Encoding]*encoding.Encoder
}

func newSetEncoder() *setEncoder {
	return &setEncoder{euc: make(map[encoding.Encoding]*encoding.Encoder)}
}

// encode returns the bytes of r in s: GR bytes (high bit set) for G1 sets,
// GL bytes for G0 sets.
func (e *setEncoder) encode(s set, r rune) ([]byte, bool) {
	info := &sets[s]
	switch {
	case s == setNone:
		return nil, false
	case s == setKatakana:
		if r >= 0xFF61 && r <= 0xFF9F {
			return []byte{byte(r-0xFF61) + 0xA1}, true
		}
		return nil, false
	case info.table != nil:
		c, ok := info.table.EncodeRune(r)
		if !ok || c < 0xA0 {
			return nil, false
		}
		return []byte{c}, true
	case info.double:
		enc := e.euc[info.euc]
		if enc == nil {
			enc = info.euc.NewEncoder()
			e.euc[info.euc] = enc
		}
		b, err := enc.Bytes([]byte(string(r)))
		if err != nil || !decodesTo(info.euc, b, r) {
			return nil, false
		}
		if info.prefix != 0 {
			if len(b) != 3 || b[0] != info.prefix {
				return nil, false
			}
			b = b[1:]
		}
		if len(b) != 2 || b[0] < 0xA1 || b[0] > 0xFE || b[1] < 0xA1 || b[1] > 0xFE {
			return nil, false
		}
		if info.g0esc != "" { // G0 set: GL bytes
			return []byte{b[0] & 0x7F, b[1] & 0x7F}, true
		}
		return b, true
	}
	return nil, false
}

// decodesTo reports whether b decodes to r alone. The x/text encoders do
// not always invert their decoders (GB18030 writes private-use characters
// as four-byte codes that decode to other characters); Encode never sends
// bytes that would read back as something else.
func decodesTo(e encoding.Encoding, b []byte, r rune) bool {
	back, err := e.NewDecoder().Bytes(b)
	return err == nil && string(back) == string(r)
}

// encode2022 writes s with ISO 2022 escape sequences.
func encode2022(t *termInfo, s string) ([]byte, string, error) {
	var g0, g1 set = setASCII, setNone
	var cands []set
	var value1 string
	var always []string // terms declared whatever s holds
	switch t.g1 {
	case setJIS0208, setJIS0212:
		cands = []set{setJIS0208, setJIS0212}
		always = []string{t.name}
		if strings.IndexFunc(s, func(r rune) bool { return r >= 0xFF61 && r <= 0xFF9F }) >= 0 {
			g0, g1 = setRomaji, setKatakana
			value1 = "ISO 2022 IR 13"
			cands = append(cands, setKatakana)
		}
	case setKSC, setGB2312:
		cands = []set{t.g1}
		always = []string{t.name}
	case setKatakana:
		g0, g1 = setRomaji, setKatakana
		value1 = t.name
		cands = []set{setKatakana, setJIS0208, setJIS0212}
	case setNone: // ISO 2022 IR 6
	default: // single-byte G1 set
		g1 = t.g1
		value1 = t.name
		cands = []set{t.g1}
	}
	initG0, initG1 := g0, g1
	used := make(map[set]bool)
	enc := newSetEncoder()
	out := make([]byte, 0, len(s)+8)

	designate := func(s set) {
		info := &sets[s]
		if info.g1esc != "" {
			if g1 != s {
				out = append(out, esc)
				out = append(out, info.g1esc...)
				g1 = s
			}
			return
		}
		if g0 != s {
			out = append(out, esc)
			out = append(out, info.g0esc...)
			g0 = s
		}
	}

	for i, r := range s {
		switch {
		case r == '^' || r == '=' || r == '\\' || r == '\r' || r == '\n' || r == '\t' || r == '\f':
			// Return to the initial designations explicitly, so that the
			// bytes decode the same whether or not the reader resets
			// here (it does not at '^' and '=' outside PN). A G1 with
			// no initial set cannot be undone: then g1 is forgotten, and
			// the next G1 character designates its set again.
			designate(initG0)
			if initG1 != setNone {
				designate(initG1)
			}
			out = append(out, byte(r))
			g0, g1 = initG0, initG1
		case r < utf8.RuneSelf:
			switch {
			case g0 == setASCII, g0 == setRomaji && r != '~':
			case initG0 == setRomaji && r == '~':
				return nil, "", unrepresentable(t, r, i)
			default:
				designate(initG0)
			}
			out = append(out, byte(r))
		default:
			var b []byte
			found := setNone
			try := append([]set{g1, g0}, cands...)
			for _, c := range try {
				if c == g0 && !sets[c].double {
					continue
				}
				if bb, ok := enc.encode(c, r); ok {
					b, found = bb, c
					break
				}
			}
			if found == setNone {
				return nil, "", unrepresentable(t, r, i)
			}
			designate(found)
			used[found] = true
			out = append(out, b...)
		}
	}
	designate(initG0)

	terms := []string{value1}
	add := func(name string) {
		for _, x := range terms {
			if x == name {
				return
			}
		}
		terms = append(terms, name)
	}
	for _, a := range always {
		add(a)
	}
	if used[setJIS0208] {
		add("ISO 2022 IR 87")
	}
	if used[setJIS0212] {
		add("ISO 2022 IR 159")
	}
	scs := strings.Join(terms, `\`)
	return out, scs, nil
}
