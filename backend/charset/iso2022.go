package charset

import (
	"strings"
	"unicode/utf8"
)

const esc = 0x1B

// decode2022 runs the ISO 2022 state machine of PS3.5 6.1.2.5 over raw.
// Double-byte characters are collected in EUC form (high bits set, plus
// the 0x8F prefix for JIS X 0212) and decoded a run at a time by the
// golang.org/x/text tables.
func (p *plan) decode2022(k vrClass, raw []byte, b *strings.Builder) (bad bool) {
	g0, g1 := p.g0, p.g1
	var run []byte
	runSet := setNone
	flush := func() {
		if len(run) > 0 {
			bad = decodeEUC(runSet, run, b) || bad
			run = run[:0]
		}
	}
	addPair := func(s set, c0, c1 byte) {
		if runSet != s {
			flush()
			runSet = s
		}
		if pre := sets[s].prefix; pre != 0 {
			run = append(run, pre)
		}
		run = append(run, c0|0x80, c1|0x80)
	}
	invalid := func() {
		flush()
		b.WriteRune(utf8.RuneError)
		bad = true
	}

	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == esc:
			flush()
			if e, n := matchEscape(raw[i+1:]); n > 0 {
				if e.g1 {
					g1 = e.set
				} else {
					g0 = e.set
				}
				i += 1 + n
				continue
			}
			// Unknown sequence: ESC, intermediates 0x20..0x2F, one final
			// byte 0x30..0x7E, all replaced by one U+FFFD.
			invalid()
			i++
			for i < len(raw) && raw[i] >= 0x20 && raw[i] <= 0x2F {
				i++
			}
			if i < len(raw) && raw[i] >= 0x30 && raw[i] <= 0x7E {
				i++
			}

		case c < 0x20 || c == 0x7F:
			flush()
			b.WriteByte(c)
			if c == '\r' || c == '\n' || c == '\t' || c == '\f' {
				g0, g1 = p.g0, p.g1
			}
			i++

		case c == ' ':
			flush()
			b.WriteByte(c)
			i++

		case c < 0x80: // GL: G0
			if sets[g0].double {
				if i+1 < len(raw) && raw[i+1] > 0x20 && raw[i+1] < 0x7F {
					addPair(g0, c, raw[i+1])
					i += 2
				} else {
					invalid()
					i++
				}
				continue
			}
			flush()
			if g0 == setKatakana {
				if c <= 0x5F {
					b.WriteRune(0xFF61 + rune(c-0x21))
				} else {
					b.WriteRune(utf8.RuneError)
					bad = true
				}
			} else {
				b.WriteByte(c) // ASCII, and JIS X 0201 Roman read as ASCII
			}
			if (c == '\\' && k.multi) || ((c == '^' || c == '=') && k.pn) {
				g0, g1 = p.g0, p.g1
			}
			i++

		case c < 0xA0: // C1 controls are not allowed in DICOM text
			invalid()
			i++

		default: // GR: G1
			s := g1
			if s == setNone {
				s = p.spareG1
			}
			info := &sets[s]
			switch {
			case info.double:
				if c < 0xFF && i+1 < len(raw) && raw[i+1] > 0xA0 && raw[i+1] < 0xFF && c > 0xA0 {
					addPair(s, c, raw[i+1])
					i += 2
					continue
				}
				invalid()
			case info.table != nil:
				flush()
				r := info.table.DecodeByte(c)
				b.WriteRune(r)
				bad = bad || r == utf8.RuneError
			case s == setKatakana && c >= 0xA1 && c <= 0xDF:
				flush()
				b.WriteRune(0xFF61 + rune(c-0xA1))
			default:
				invalid()
			}
			i++
		}
	}
	flush()
	return bad
}

// matchEscape finds the escape sequence at the start of rest (the bytes
// after ESC) and returns it and its length, or n == 0.
func matchEscape(rest []byte) (e escape, n int) {
	for _, e := range escapes {
		if len(rest) >= len(e.seq) && string(rest[:len(e.seq)]) == e.seq {
			return e, len(e.seq)
		}
	}
	return escape{}, 0
}

// decodeEUC decodes a run of double-byte characters in EUC form.
func decodeEUC(s set, run []byte, b *strings.Builder) (bad bool) {
	out, err := sets[s].euc.NewDecoder().Bytes(run)
	if err != nil {
		// The x/text decoders replace rather than fail; be safe anyway.
		for range run {
			b.WriteRune(utf8.RuneError)
		}
		return true
	}
	b.Write(out)
	return strings.ContainsRune(string(out), utf8.RuneError)
}

// decode decodes a whole value in an encoding without code extensions.
func (w *whole) decode(raw []byte, b *strings.Builder) (bad bool) {
	if w.enc == nil { // UTF-8
		for i := 0; i < len(raw); {
			r, n := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && n == 1 {
				bad = true
			}
			b.WriteRune(r)
			i += n
		}
		return bad
	}
	out, err := w.enc.NewDecoder().Bytes(raw)
	if err != nil {
		decodeDefault(raw, b)
		return true
	}
	b.Write(out)
	replaced := strings.Count(string(out), string(utf8.RuneError))
	if w.legitFFFD != "" {
		replaced -= strings.Count(string(raw), w.legitFFFD)
	}
	return replaced > 0
}
