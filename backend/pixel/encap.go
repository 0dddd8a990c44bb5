package pixel

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"lightbox/backend/dcm"
)

// maxOffsetTable bounds the offset tables read into memory (16 MiB: two
// million frames).
const maxOffsetTable = 16 << 20

// mapFrames groups the fragments of encapsulated Pixel Data into frames. It
// tries, in order: one frame made of every fragment (NumberOfFrames 1), the
// Basic Offset Table, the Extended Offset Table, one fragment per frame
// when there are as many fragments as frames, and codec markers (a fragment
// that opens with a JPEG SOI, a JPEG 2000 SOC+SIZ or a JP2 signature starts
// a frame).
func mapFrames(f *dcm.File, px *dcm.Element, frames int, in *Info) ([][]dcm.Fragment, error) {
	if len(px.Fragments) < 2 {
		return nil, invalid("encapsulated pixel data without fragments")
	}
	bot, frags := px.Fragments[0], px.Fragments[1:]
	if frames == 1 {
		return [][]dcm.Fragment{frags}, nil
	}
	if frames > len(frags) {
		return nil, invalid("%d frames declared, only %d fragments", frames, len(frags))
	}
	// Offsets in both tables count from the first byte of the first
	// fragment's item header.
	base := frags[0].Offset - 8
	if bot.Length > 0 {
		if out, err := botFrames(f, bot, frags, base, frames); err == nil {
			return out, nil
		} else {
			in.Warnings = append(in.Warnings, "Basic Offset Table ignored: "+err.Error())
		}
	}
	if f.DataSet.Get(dcm.TagExtendedOffsetTable) != nil {
		if out, err := eotFrames(f, frags, base, frames); err == nil {
			return out, nil
		} else {
			in.Warnings = append(in.Warnings, "Extended Offset Table ignored: "+err.Error())
		}
	}
	if len(frags) == frames {
		// As many fragments as frames: every frame has exactly one (the
		// markers could say nothing else), so skip reading them.
		out := make([][]dcm.Fragment, frames)
		for i := range frags {
			out[i] = frags[i : i+1]
		}
		return out, nil
	}
	if out, err := markerFrames(f, frags, frames); err == nil {
		return out, nil
	}
	return nil, invalid("cannot map %d fragments onto %d frames (no usable offset table, no codec markers)", len(frags), frames)
}

// byOffsets groups fragments at the given frame start offsets (relative to
// base). Every offset must be the start of a fragment item, in strictly
// increasing order, the first one 0.
func byOffsets(offsets []uint64, frags []dcm.Fragment, base int64) ([][]dcm.Fragment, error) {
	starts := make([]int, len(offsets)+1)
	k := 0
	for i, off := range offsets {
		if i == 0 && off != 0 {
			return nil, fmt.Errorf("first offset is %d, not 0", off)
		}
		for k < len(frags) && uint64(frags[k].Offset-8-base) < off {
			k++
		}
		if k == len(frags) || uint64(frags[k].Offset-8-base) != off {
			return nil, fmt.Errorf("offset %d of frame %d is not the start of a fragment", off, i)
		}
		starts[i] = k
		k++ // the next frame starts at a later fragment
	}
	starts[len(offsets)] = len(frags)
	out := make([][]dcm.Fragment, len(offsets))
	for i := range out {
		out[i] = frags[starts[i]:starts[i+1]]
	}
	return out, nil
}

func botFrames(f *dcm.File, bot dcm.Fragment, frags []dcm.Fragment, base int64, frames int) ([][]dcm.Fragment, error) {
	if bot.Length%4 != 0 || int(bot.Length/4) != frames {
		return nil, fmt.Errorf("%d bytes for %d frames", bot.Length, frames)
	}
	if bot.Length > maxOffsetTable {
		return nil, fmt.Errorf("%d bytes is too large", bot.Length)
	}
	b := make([]byte, bot.Length)
	if err := readAt(f.Source, b, bot.Offset); err != nil {
		return nil, err
	}
	bo := byteOrder(f)
	offs := make([]uint64, frames)
	for i := range offs {
		offs[i] = uint64(bo.Uint32(b[4*i:]))
	}
	return byOffsets(offs, frags, base)
}

func byteOrder(f *dcm.File) binary.ByteOrder {
	if f.DataSet.BigEndian {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// elementBytes returns the value of an element, loaded or read from the
// source when it is bulk, up to max bytes.
func elementBytes(f *dcm.File, e *dcm.Element, max int64) ([]byte, error) {
	if e == nil {
		return nil, nil
	}
	if e.Value != nil || e.Length == 0 {
		return e.Value, nil
	}
	if !e.Bulk() || e.Length == dcm.Undefined {
		return nil, invalid("%s has no readable value", e.Tag)
	}
	if int64(e.Length) > max {
		return nil, fmt.Errorf("%w: %s has %d bytes (limit %d)", ErrTooLarge, e.Tag, e.Length, max)
	}
	b := make([]byte, e.Length)
	if err := readAt(f.Source, b, e.Offset); err != nil {
		return nil, err
	}
	return b, nil
}

func eotFrames(f *dcm.File, frags []dcm.Fragment, base int64, frames int) ([][]dcm.Fragment, error) {
	b, err := elementBytes(f, f.DataSet.Get(dcm.TagExtendedOffsetTable), maxOffsetTable)
	if err != nil {
		return nil, err
	}
	if len(b) != 8*frames {
		return nil, fmt.Errorf("%d bytes for %d frames", len(b), frames)
	}
	bo := byteOrder(f)
	offs := make([]uint64, frames)
	for i := range offs {
		offs[i] = bo.Uint64(b[8*i:])
	}
	return byOffsets(offs, frags, base)
}

var (
	jpegSOI = []byte{0xFF, 0xD8, 0xFF}
	j2kSOC  = []byte{0xFF, 0x4F, 0xFF, 0x51}
	jp2Sig  = []byte{0, 0, 0, 0x0C, 'j', 'P', ' ', ' '}
)

func markerFrames(f *dcm.File, frags []dcm.Fragment, frames int) ([][]dcm.Fragment, error) {
	var out [][]dcm.Fragment
	head := make([]byte, 8)
	start := -1
	for i, fr := range frags {
		h := head[:min(int(fr.Length), len(head))]
		if err := readAt(f.Source, h, fr.Offset); err != nil {
			return nil, err
		}
		if bytes.HasPrefix(h, jpegSOI) || bytes.HasPrefix(h, j2kSOC) || bytes.HasPrefix(h, jp2Sig) {
			if start >= 0 {
				out = append(out, frags[start:i])
			}
			start = i
		} else if start < 0 {
			return nil, fmt.Errorf("first fragment has no codec marker")
		}
	}
	out = append(out, frags[start:])
	if len(out) != frames {
		return nil, fmt.Errorf("codec markers give %d frames, not %d", len(out), frames)
	}
	return out, nil
}
