// Package charset turns the raw bytes of DICOM text values into UTF-8, and
// UTF-8 query keys into the bytes of a remote node's character set. It is
// the one place in Lightbox that knows about Specific Character Set
// (0008,0005), PS3.5 section 6.1 and Annexes H, I and J.
//
// # Decoding
//
// NewDecoder takes the values of (0008,0005) as read from the data set
// (or nil when the attribute is absent) and never fails: terms it does not
// understand are recorded (Decoder.Unknown) and skipped, and when no usable
// term is left the decoder uses the caller's fallback (WithFallback) or the
// default repertoire. WithOverride ignores (0008,0005) altogether, for
// nodes known to send mislabelled data.
//
//	d := charset.NewDecoder(scsValues, charset.WithFallback(node.AssumeCharset))
//	name, bad := d.Decode("PN", rawPatientName) // bad: some byte became U+FFFD
//	values, _ := d.DecodeValues("LO", rawOtherIDs)
//
// Decode and DecodeValues return valid UTF-8 for any input, and replace
// every byte sequence that is invalid in its character set by U+FFFD; the
// bool result reports whether that happened. Values are decoded whole and
// only then split at '\', since byte 0x5C may be the second byte of a
// GB18030, GBK or JIS X 0208 character. Leading and trailing padding is
// removed as the VR allows, and person names lose empty trailing
// components and component groups ("Wang^XiaoDong=王^小東=" becomes
// "Wang^XiaoDong=王^小東").
//
// Only PN, LO, SH, ST, LT, UT and UC (and "" or "UN", when the caller does
// not know the VR) use the extended character set; every other VR is
// decoded as the default repertoire, where a byte above 0x7F becomes
// U+FFFD.
//
// Values using ISO 2022 code extensions go through a state machine: the
// initial G0 and G1 designations come from value 1 of (0008,0005) (empty
// means ISO 2022 IR 6); escape sequences (ESC ( B, ESC ( J, ESC ) I,
// ESC $ B, ESC $ ( D, ESC $ ) C, ESC $ ) A, ESC - A ... ESC - T) switch
// them, and the initial designations return at CR, LF, TAB, FF, at '\' in
// multi-valued VRs, and at '^' and '=' in PN. Escape sequences are honoured
// even when (0008,0005) does not list the set. When a byte above 0x7F
// arrives with nothing designated to G1, the first G1 set listed in
// (0008,0005) is used (Korean writers often leave out ESC $ ) C). JIS X
// 0201 Roman (ESC ( J) is decoded as ASCII, so that 0x5C stays the value
// delimiter. ISO_IR 13 without code extensions is decoded as Shift_JIS, a
// superset of JIS X 0201 that many Japanese writers use under that label.
//
// Terms: the default repertoire (absent, empty or ISO_IR 6), ISO_IR 100,
// 101, 109, 110, 126, 127, 138, 144, 148, 166, 203, 13, 192, GB18030, GBK,
// and ISO 2022 IR 6, 100, 101, 109, 110, 126, 127, 138, 144, 148, 166, 203,
// 13, 87, 159, 149, 58 (see Terms and Known). Fallbacks and overrides may
// also name Windows-1250 to -1258, KOI8-R, KOI8-U, Shift_JIS, EUC-JP,
// EUC-KR and Big5.
//
// A Decoder is immutable once built and safe for concurrent use. For a
// sequence item that carries its own (0008,0005), call Decoder.Item.
//
// # Encoding
//
// Encode converts a UTF-8 query key into the character set a node is
// configured with (ISO_IR 192 when the node names none) and returns the
// (0008,0005) value to put in the identifier. Wildcards '*' and '?' and the
// delimiters '^', '=' and '\' stay single ASCII bytes. For ISO 2022 IR 87,
// 159, 13, 149 and 58 it writes escape sequences, returning to the initial
// designation before every delimiter and at the end, so each PN component
// group (alphabetic=ideographic=phonetic) is self-contained. A character
// the set cannot represent is an error (ErrUnrepresentable), and so is a
// private-use character in GB18030 or GB 2312, whose x/text tables do not
// read back what they write.
//
// # Matching
//
// MatchText and MatchPN match DICOM wildcard patterns ('*' any run, '?' one
// character) case-insensitively with Unicode simple case folding (so
// Cyrillic, Greek and full-width Latin fold too) after NFC normalisation,
// and accent-sensitively. MatchPN also tries each component group of the
// name on its own.
//
// The package keeps no mutable global state; its tables are built at
// initialisation and only read afterwards.
package charset

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// Sentinel errors returned (wrapped) by Encode.
var (
	// ErrUnknownCharset: the term is not one Encode can write.
	ErrUnknownCharset = errors.New("charset: unknown or unsupported character set")
	// ErrUnrepresentable: a character has no encoding in the chosen set.
	ErrUnrepresentable = errors.New("charset: character not representable")
	// ErrInvalidUTF8: the string to encode is not valid UTF-8.
	ErrInvalidUTF8 = errors.New("charset: invalid UTF-8")
)

// Option configures a Decoder.
type Option func(*options)

type options struct {
	fallback string
	override string
}

// WithFallback names the character set assumed when (0008,0005) is absent,
// empty, ISO_IR 6 alone, or holds no term this package knows. Any name
// Known accepts is allowed, including "Windows-1251"; an unknown name is
// recorded in Decoder.Unknown and ignored.
func WithFallback(term string) Option { return func(o *options) { o.fallback = term } }

// WithOverride names a character set used instead of whatever (0008,0005)
// says (a per-node "assume this set" setting). An unknown name is recorded
// in Decoder.Unknown and ignored.
func WithOverride(term string) Option { return func(o *options) { o.override = term } }

// plan says how extended-VR values are decoded.
type plan struct {
	whole   *whole // non-nil: decode the whole value with this encoding
	g0, g1  set    // ISO 2022: initial designations
	spareG1 set    // ISO 2022: G1 used for GR bytes when none is designated
}

// Decoder decodes the text values of one data set (or sequence item).
type Decoder struct {
	opts      options
	plan      plan
	effective []string
	unknown   []string
	assumed   bool
}

// NewDecoder builds a decoder for the values of (0008,0005) (nil or empty
// when absent). It never fails; see Unknown and Assumed.
func NewDecoder(specificCharacterSet []string, opts ...Option) *Decoder {
	d := &Decoder{}
	for _, o := range opts {
		if o != nil {
			o(&d.opts)
		}
	}
	if d.opts.override != "" {
		if t := lookup(d.opts.override); t != nil {
			d.use([]*termInfo{t})
			d.assumed = true
			return d
		}
		d.unknown = append(d.unknown, d.opts.override)
	}

	// Position matters (value 1 is the initial designation), so keep a
	// slot for every value; nil marks an empty or unknown one.
	terms := make([]*termInfo, 0, len(specificCharacterSet))
	usable := 0
	for i, v := range specificCharacterSet {
		v = strings.Trim(v, " \x00")
		if v == "" {
			terms = append(terms, nil)
			continue
		}
		t := lookup(v)
		if t == nil {
			d.unknown = append(d.unknown, v)
		} else if i > 0 && t.whole != nil && t.name != "ISO_IR 13" {
			// UTF-8, GB18030, GBK allow no code extensions, so they
			// cannot follow another value.
			d.unknown = append(d.unknown, v)
			t = nil
		} else if len(specificCharacterSet) > 1 && i == 0 && t.whole != nil && t.name != "ISO_IR 13" {
			// A multi-byte set without code extensions as value 1:
			// it rules alone, other values cannot be switched to.
			for _, rest := range specificCharacterSet[1:] {
				if rest = strings.Trim(rest, " \x00"); rest != "" {
					d.unknown = append(d.unknown, rest)
				}
			}
			d.use([]*termInfo{t})
			return d
		}
		if t != nil {
			usable++
			if (t.name == "ISO_IR 6" || t.name == "ISO 2022 IR 6") && len(specificCharacterSet) == 1 {
				usable-- // the default repertoire alone: the fallback may apply
			}
		}
		terms = append(terms, t)
	}

	if usable == 0 && d.opts.fallback != "" {
		if t := lookup(d.opts.fallback); t != nil {
			d.use([]*termInfo{t})
			d.assumed = true
			return d
		}
		d.unknown = append(d.unknown, d.opts.fallback)
	}
	d.use(terms)
	return d
}

// use sets the plan from the terms, in (0008,0005) order (nil = empty
// value or unknown term).
func (d *Decoder) use(terms []*termInfo) {
	d.effective = d.effective[:0]
	for _, t := range terms {
		if t == nil {
			d.effective = append(d.effective, "")
		} else {
			d.effective = append(d.effective, t.name)
		}
	}
	for len(d.effective) > 0 && d.effective[len(d.effective)-1] == "" {
		d.effective = d.effective[:len(d.effective)-1]
	}
	d.plan = plan{g0: setASCII}
	if len(terms) == 0 {
		return
	}
	first := terms[0]
	if len(terms) == 1 && first != nil && first.whole != nil {
		d.plan.whole = first.whole
		return
	}
	if first != nil {
		if first.g0 != setNone {
			d.plan.g0 = first.g0
		}
		if first.g1 != setNone && sets[first.g1].g1esc != "" && first.g0 != setNone {
			d.plan.g1 = first.g1
		}
	}
	for i, t := range terms {
		if t == nil || t.g1 == setNone || sets[t.g1].g1esc == "" {
			continue
		}
		if i == 0 && d.plan.g1 != setNone {
			continue
		}
		d.plan.spareG1 = t.g1
		break
	}
}

// Item returns the decoder for a sequence item: d itself when the item has
// no (0008,0005) of its own (nil), else a decoder for the item's values
// with the same options as d.
func (d *Decoder) Item(specificCharacterSet []string) *Decoder {
	if specificCharacterSet == nil {
		return d
	}
	return NewDecoder(specificCharacterSet, WithFallback(d.opts.fallback), WithOverride(d.opts.override))
}

// Effective returns the canonical terms in use, in (0008,0005) order (an
// empty string for an empty or unusable value); nil for the default
// repertoire. With a fallback or override it is that term alone.
func (d *Decoder) Effective() []string { return append([]string(nil), d.effective...) }

// Unknown returns the (0008,0005) values, fallback or override names that
// were not understood or could not be used, in the order met.
func (d *Decoder) Unknown() []string { return append([]string(nil), d.unknown...) }

// Assumed reports whether the decoder uses the caller's fallback or
// override rather than the declared (0008,0005).
func (d *Decoder) Assumed() bool { return d.assumed }

// vrClass holds the decoding rules of a value representation.
type vrClass struct {
	extended bool // uses (0008,0005)
	multi    bool // '\' separates values
	pn       bool // '^' and '=' reset code extensions
	leading  bool // leading spaces are padding
}

func classify(vr string) vrClass {
	switch vr {
	case "PN":
		return vrClass{extended: true, multi: true, pn: true}
	case "LO", "SH":
		return vrClass{extended: true, multi: true, leading: true}
	case "UC", "", "UN":
		return vrClass{extended: true, multi: true}
	case "ST", "LT", "UT":
		return vrClass{extended: true}
	case "UR":
		return vrClass{}
	case "AE", "CS", "DS", "IS":
		return vrClass{multi: true, leading: true}
	default:
		return vrClass{multi: true}
	}
}

// Decode returns the value as UTF-8 and whether any byte was replaced by
// U+FFFD. For multi-valued VRs the values are trimmed one by one and
// joined again with '\'.
func (d *Decoder) Decode(vr string, raw []byte) (s string, substituted bool) {
	k := classify(vr)
	s, substituted = d.decode(k, raw)
	if !k.multi {
		return trimValue(k, s), substituted
	}
	vals := splitValues(k, s)
	if len(vals) == 1 {
		return vals[0], substituted
	}
	return strings.Join(vals, `\`), substituted
}

// DecodeValues decodes the value and splits it into its values (one for
// ST, LT, UT and UR), each trimmed of padding. An empty raw value gives
// one empty string.
func (d *Decoder) DecodeValues(vr string, raw []byte) (values []string, substituted bool) {
	k := classify(vr)
	s, substituted := d.decode(k, raw)
	if !k.multi {
		return []string{trimValue(k, s)}, substituted
	}
	return splitValues(k, s), substituted
}

func (d *Decoder) decode(k vrClass, raw []byte) (string, bool) {
	var b strings.Builder
	b.Grow(len(raw) + len(raw)/2)
	var bad bool
	switch {
	case !k.extended:
		bad = decodeDefault(raw, &b)
	case d.plan.whole != nil:
		bad = d.plan.whole.decode(raw, &b)
	default:
		bad = d.plan.decode2022(k, raw, &b)
	}
	return b.String(), bad
}

// decodeDefault decodes the default repertoire: bytes above 0x7F are
// invalid.
func decodeDefault(raw []byte, b *strings.Builder) (bad bool) {
	for _, c := range raw {
		if c < utf8.RuneSelf {
			b.WriteByte(c)
		} else {
			b.WriteRune(utf8.RuneError)
			bad = true
		}
	}
	return bad
}

func splitValues(k vrClass, s string) []string {
	vals := strings.Split(s, `\`)
	for i, v := range vals {
		vals[i] = trimValue(k, v)
	}
	return vals
}

func trimValue(k vrClass, v string) string {
	v = strings.TrimRight(v, " \x00")
	if k.leading {
		v = strings.TrimLeft(v, " ")
	}
	if k.pn {
		v = trimPN(v)
	}
	return v
}

// trimPN drops empty trailing components in each component group and
// empty trailing groups.
func trimPN(v string) string {
	if !strings.ContainsAny(v, "^=") {
		return v
	}
	groups := strings.Split(v, "=")
	for i, g := range groups {
		groups[i] = strings.TrimRight(g, "^ ")
	}
	for len(groups) > 0 && groups[len(groups)-1] == "" {
		groups = groups[:len(groups)-1]
	}
	return strings.Join(groups, "=")
}
