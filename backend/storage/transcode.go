package storage

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"lightbox/backend/dcm"
	"lightbox/backend/pixel"
)

// ErrCannotConvert: the object cannot be re-encoded in the requested
// transfer syntax (no codec for its compression, a target we do not
// write, an image layout we cannot express natively).
var ErrCannotConvert = errors.New("cannot convert to the accepted transfer syntax")

// maxConvertBytes bounds the native pixel data of a converted object.
const maxConvertBytes = 2 << 30

// Transcode writes the data set of the Part 10 file at path (no meta, no
// preamble) re-encoded in target, which must be Explicit or Implicit VR
// Little Endian. It rewrites only what must change: element headers for
// the target encoding (sequences and items get undefined lengths, group
// lengths are dropped), values byte-swapped from a Big Endian source, and,
// for encapsulated sources, the pixel data decoded with codecs and written
// native (OB for 8 bits, else OW) with Planar Configuration 0, YBR
// photometrics as RGB and the extended offset table dropped. Every other
// value (Lossy Image Compression included) is copied as stored.
func Transcode(ctx context.Context, w io.Writer, path, target string, codecs pixel.Codecs) error {
	tts, ok := dcm.LookupTS(target)
	if !ok || tts.Encapsulated || tts.Deflated || tts.BigEndian {
		return fmt.Errorf("%w: Lightbox writes only Explicit or Implicit VR Little Endian, not %s", ErrCannotConvert, target)
	}
	f, err := dcm.ParseFile(path, dcm.Options{MaxInline: 1 << 20})
	if err != nil {
		return err
	}
	defer f.Close()
	e := &encoder{w: bufio.NewWriterSize(w, 256<<10), implicit: tts.Implicit, srcBE: f.TransferSyntax.BigEndian, src: f.Source}
	px := f.DataSet.Get(dcm.TagPixelData)
	if px != nil && px.Encapsulated() {
		img, err := pixel.FromFile(f, pixel.WithCodecs(codecs))
		if err != nil {
			if errors.Is(err, pixel.ErrUnsupportedTS) {
				return fmt.Errorf("%w: no codec for %s: %v", ErrCannotConvert, f.TransferSyntax.Name, err)
			}
			return fmt.Errorf("%w: %v", ErrCannotConvert, err)
		}
		in := img.Info
		if in.BitsAllocated == 1 {
			return fmt.Errorf("%w: 1-bit encapsulated pixel data", ErrCannotConvert)
		}
		total := int64(in.FrameSize()) * int64(in.Frames)
		if total > maxConvertBytes {
			return fmt.Errorf("%w: %d bytes of native pixel data", ErrCannotConvert, total)
		}
		e.pixels = func(e *encoder, el *dcm.Element) error {
			vr := "OW"
			if in.BitsAllocated <= 8 {
				vr = "OB"
			}
			n := total + total%2
			if err := e.header(el.Tag, vr, uint32(n)); err != nil {
				return err
			}
			for i := 0; i < in.Frames; i++ {
				fr, err := img.Frame(ctx, i)
				if err != nil {
					return fmt.Errorf("%w: %v", ErrCannotConvert, err)
				}
				if _, err := e.w.Write(fr); err != nil {
					return err
				}
			}
			if total%2 == 1 {
				return e.w.WriteByte(0)
			}
			return nil
		}
		e.replace = map[dcm.Tag][]byte{}
		if pc := f.DataSet.Get(dcm.TagPlanarConfiguration); pc != nil {
			e.replace[dcm.TagPlanarConfiguration] = []byte{0, 0}
		}
		if strings.HasPrefix(in.Photometric, "YBR") && in.SamplesPerPixel == 3 {
			e.replace[dcm.TagPhotometric] = []byte("RGB ")
		}
		e.drop = map[dcm.Tag]bool{dcm.TagExtendedOffsetTable: true, dcm.TagExtendedOffsetLengths: true}
	}
	if err := e.dataset(f.DataSet, true); err != nil {
		return err
	}
	return e.w.Flush()
}

type encoder struct {
	w        *bufio.Writer
	implicit bool
	srcBE    bool
	src      io.ReaderAt
	pixels   func(e *encoder, el *dcm.Element) error // replaces top-level Pixel Data
	replace  map[dcm.Tag][]byte                      // top-level values replaced (target byte order)
	drop     map[dcm.Tag]bool                        // top-level elements dropped
	hdr      [12]byte
}

var (
	tagItem       = dcm.NewTag(0xFFFE, 0xE000)
	tagItemDelim  = dcm.NewTag(0xFFFE, 0xE00D)
	tagSeqDelim   = dcm.NewTag(0xFFFE, 0xE0DD)
	errUndefValue = fmt.Errorf("%w: undefined length value", ErrCannotConvert)
)

func (e *encoder) dataset(ds *dcm.DataSet, top bool) error {
	for _, el := range ds.Elements {
		if el.Tag.Element() == 0x0000 || el.Tag.Group() == 0x0002 {
			continue // group lengths change with the encoding; meta belongs to the file
		}
		if top {
			if e.drop[el.Tag] {
				continue
			}
			if el.Tag == dcm.TagPixelData && e.pixels != nil {
				if err := e.pixels(e, el); err != nil {
					return err
				}
				continue
			}
			if v, ok := e.replace[el.Tag]; ok {
				if err := e.header(el.Tag, el.VR, uint32(len(v))); err != nil {
					return err
				}
				if _, err := e.w.Write(v); err != nil {
					return err
				}
				continue
			}
		}
		if el.Items != nil || el.VR == "SQ" {
			if err := e.header(el.Tag, "SQ", dcm.Undefined); err != nil {
				return err
			}
			for _, it := range el.Items {
				if err := e.raw(tagItem, dcm.Undefined); err != nil {
					return err
				}
				if err := e.dataset(it, false); err != nil {
					return err
				}
				if err := e.raw(tagItemDelim, 0); err != nil {
					return err
				}
			}
			if err := e.raw(tagSeqDelim, 0); err != nil {
				return err
			}
			continue
		}
		if el.Fragments != nil {
			return fmt.Errorf("%w: encapsulated value in %s", ErrCannotConvert, el.Tag)
		}
		if el.Length == dcm.Undefined {
			return errUndefValue
		}
		v, err := e.value(el)
		if err != nil {
			return err
		}
		vr := el.VR
		if !e.implicit && !longVRName(vr) && len(v) > 0xFFFF {
			vr = "UN"
		}
		if err := e.header(el.Tag, vr, uint32(len(v))); err != nil {
			return err
		}
		if _, err := e.w.Write(v); err != nil {
			return err
		}
	}
	return nil
}

// value returns an element's value in Little Endian.
func (e *encoder) value(el *dcm.Element) ([]byte, error) {
	v := el.Value
	if v == nil && el.Length > 0 {
		if int64(el.Length) > maxConvertBytes {
			return nil, fmt.Errorf("%w: %s of %d bytes", ErrCannotConvert, el.Tag, el.Length)
		}
		v = make([]byte, el.Length)
		if _, err := e.src.ReadAt(v, el.Offset); err != nil && !(errors.Is(err, io.EOF) && len(v) == 0) {
			return nil, fmt.Errorf("reading %s: %w", el.Tag, err)
		}
	} else if e.srcBE {
		v = append([]byte(nil), v...) // the parsed file is shared: swap a copy
	}
	if e.srcBE {
		swap(v, swapWidth(el.VR))
	}
	return v, nil
}

func swapWidth(vr string) int {
	switch vr {
	case "US", "SS", "OW", "AT":
		return 2
	case "UL", "SL", "FL", "OF", "OL":
		return 4
	case "FD", "OD", "SV", "UV", "OV":
		return 8
	}
	return 1
}

func swap(v []byte, w int) {
	if w == 1 {
		return
	}
	for i := 0; i+w <= len(v); i += w {
		for a, b := i, i+w-1; a < b; a, b = a+1, b-1 {
			v[a], v[b] = v[b], v[a]
		}
	}
}

func longVRName(vr string) bool {
	switch vr {
	case "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV":
		return true
	}
	return false
}

func (e *encoder) header(t dcm.Tag, vr string, n uint32) error {
	h := e.hdr[:]
	binary.LittleEndian.PutUint16(h[0:], t.Group())
	binary.LittleEndian.PutUint16(h[2:], t.Element())
	if e.implicit {
		binary.LittleEndian.PutUint32(h[4:], n)
		_, err := e.w.Write(h[:8])
		return err
	}
	if len(vr) != 2 {
		vr = "UN"
	}
	copy(h[4:6], vr)
	if longVRName(vr) {
		h[6], h[7] = 0, 0
		binary.LittleEndian.PutUint32(h[8:], n)
		_, err := e.w.Write(h[:12])
		return err
	}
	binary.LittleEndian.PutUint16(h[6:], uint16(n))
	_, err := e.w.Write(h[:8])
	return err
}

// raw writes an item or delimiter header (no VR in any encoding).
func (e *encoder) raw(t dcm.Tag, n uint32) error {
	h := e.hdr[:8]
	binary.LittleEndian.PutUint16(h[0:], t.Group())
	binary.LittleEndian.PutUint16(h[2:], t.Element())
	binary.LittleEndian.PutUint32(h[4:], n)
	_, err := e.w.Write(h)
	return err
}
