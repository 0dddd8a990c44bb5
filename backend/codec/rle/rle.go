// Package rle decodes DICOM RLE Lossless frames (transfer syntax
// 1.2.840.10008.1.2.5, PS3.5 Annex G).
//
// A frame is a 64-byte header (the segment count, then 15 little-endian
// segment offsets from the start of the frame) followed by PackBits-coded
// segments, one per byte plane: for each sample (R, G, B or the single grey
// sample), its most significant byte first. Decoder.Decode writes the
// canonical samples of package codec: interleaved samples, each a
// little-endian integer of BitsAllocated width (8, 16 or 32 bits). Masking to
// BitsStored and sign extension are left to the caller. RLE has no colour
// transform of its own, so three samples declared YBR_FULL by the
// Photometric Interpretation are converted to RGB here, as the codec
// contract asks of every codec that knows its samples are Y, Cb, Cr.
//
// Every offset and run is checked against the fragment and the output
// before it is used; malformed input gives an error wrapping
// codec.ErrCorrupt or codec.ErrMismatch and never a panic.
//
// Decoder has no state: the zero value is ready and safe for concurrent use.
package rle

import (
	"encoding/binary"
	"fmt"

	"lightbox/backend/codec"
)

// Decoder decodes RLE Lossless frames. It implements codec.Decoder.
type Decoder struct{}

var _ codec.Decoder = Decoder{}

const headerSize = 64

// Decode decodes one RLE frame into dst (p.FrameSize() bytes).
func (Decoder) Decode(src []byte, p codec.Params, dst []byte) error {
	if p.Rows <= 0 || p.Columns <= 0 || p.SamplesPerPixel <= 0 {
		return fmt.Errorf("rle: %w: image size %dx%dx%d", codec.ErrMismatch, p.Columns, p.Rows, p.SamplesPerPixel)
	}
	if p.Rows*p.Columns > codec.MaxPixels/p.SamplesPerPixel {
		return fmt.Errorf("rle: %w: %dx%d", codec.ErrTooLarge, p.Columns, p.Rows)
	}
	var bps int
	switch p.BitsAllocated {
	case 8, 16, 32:
		bps = p.BitsAllocated / 8
	default:
		return fmt.Errorf("rle: %w: BitsAllocated %d", codec.ErrUnsupported, p.BitsAllocated)
	}
	if len(dst) != p.FrameSize() {
		return fmt.Errorf("rle: %w: dst has %d bytes, frame needs %d", codec.ErrMismatch, len(dst), p.FrameSize())
	}
	if len(src) < headerSize {
		return fmt.Errorf("rle: %w: %d bytes, shorter than the header", codec.ErrCorrupt, len(src))
	}
	nseg := binary.LittleEndian.Uint32(src)
	if nseg == 0 || nseg > 15 {
		return fmt.Errorf("rle: %w: %d segments", codec.ErrCorrupt, nseg)
	}
	want := p.SamplesPerPixel * bps
	if int(nseg) != want {
		return fmt.Errorf("rle: %w: %d segments, the data set needs %d", codec.ErrMismatch, nseg, want)
	}
	var offs [16]int
	for i := 0; i < int(nseg); i++ {
		o := binary.LittleEndian.Uint32(src[4+4*i:])
		if o < headerSize || uint64(o) > uint64(len(src)) {
			return fmt.Errorf("rle: %w: segment %d offset %d outside the %d-byte frame", codec.ErrCorrupt, i, o, len(src))
		}
		if i > 0 && int(o) < offs[i-1] {
			return fmt.Errorf("rle: %w: segment offsets not increasing", codec.ErrCorrupt)
		}
		offs[i] = int(o)
	}
	offs[nseg] = len(src)
	pixels := p.Rows * p.Columns
	stride := want // bytes between two pixels in dst
	for s := 0; s < int(nseg); s++ {
		sample, plane := s/bps, s%bps
		// plane 0 is the most significant byte; dst is little-endian.
		start := sample*bps + (bps - 1 - plane)
		if err := unpack(src[offs[s]:offs[s+1]], dst[start:], stride, pixels); err != nil {
			return fmt.Errorf("rle: segment %d: %w", s, err)
		}
	}
	if p.SamplesPerPixel == 3 && p.Photometric == "YBR_FULL" && bps <= 2 {
		codec.YBRFullToRGB(dst, bps, p.BitsStored)
	}
	return nil
}

// unpack decodes a PackBits segment into out[0], out[stride], ... for n
// bytes. Bytes decoded beyond n (row padding of some encoders) are ignored;
// a segment that yields fewer than n bytes is corrupt.
func unpack(seg []byte, out []byte, stride, n int) error {
	o := 0 // output byte index
	i := 0
	for o < n {
		if i >= len(seg) {
			return fmt.Errorf("%w: segment ends after %d of %d bytes", codec.ErrCorrupt, o, n)
		}
		h := int(int8(seg[i]))
		i++
		switch {
		case h >= 0: // literal run of h+1 bytes
			cnt := h + 1
			if i+cnt > len(seg) {
				return fmt.Errorf("%w: literal run past the segment end", codec.ErrCorrupt)
			}
			cnt = min(cnt, n-o)
			lit := seg[i : i+cnt]
			i += h + 1
			if stride == 1 {
				copy(out[o:], lit)
				o += cnt
				continue
			}
			pos := o * stride
			for _, b := range lit {
				out[pos] = b
				pos += stride
			}
			o += cnt
		case h != -128: // replicate the next byte 1-h times
			if i >= len(seg) {
				return fmt.Errorf("%w: replicate run past the segment end", codec.ErrCorrupt)
			}
			b := seg[i]
			i++
			cnt := min(1-h, n-o)
			if stride == 1 {
				fill := out[o : o+cnt]
				for k := range fill {
					fill[k] = b
				}
				o += cnt
				continue
			}
			pos := o * stride
			for k := 0; k < cnt; k++ {
				out[pos] = b
				pos += stride
			}
			o += cnt
		}
	}
	return nil
}
