// Package testframes gives codec tests the compressed frames of the corpus
// files without depending on the frame layer, so that the codecs can be
// tested on their own. It is for tests only: it finds the encapsulated Pixel
// Data by its byte signature, which is good enough for the corpus but is not
// a DICOM parser.
package testframes

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"lightbox/backend/codec"
	"lightbox/backend/testcorpus"
)

// Row is one line of the corpus manifest.tsv.
type Row = testcorpus.Row

// Dir returns the corpus directory or fails the test.
func Dir(t testing.TB) string { return testcorpus.Dir(t) }

// Manifest reads manifest.tsv of the corpus.
func Manifest(t testing.TB) []Row { return testcorpus.Manifest(t) }

// Params builds codec.Params from a manifest row.
func Params(r Row) codec.Params {
	atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
	b := strings.Split(r["bits"], "/")
	p := codec.Params{Rows: atoi(r["rows"]), Columns: atoi(r["cols"]), SamplesPerPixel: atoi(r["spp"]),
		Photometric: r["photometric"], PlanarConfiguration: atoi(r["planar"])}
	if len(b) == 4 {
		p.BitsAllocated, p.BitsStored, p.Signed = atoi(b[0]), atoi(b[1]), b[3] == "1"
	}
	return p
}

// Frames returns the compressed frames of an encapsulated Part 10 file
// (Explicit VR LE data set). frames is the Number of Frames.
func Frames(path string, frames int) ([][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sig := []byte{0xE0, 0x7F, 0x10, 0x00, 'O', 'B', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF}
	i := bytes.LastIndex(data, sig)
	if i < 0 {
		sig[5] = 'W'
		i = bytes.LastIndex(data, sig)
	}
	if i < 0 {
		return nil, errors.New("no encapsulated pixel data")
	}
	p := data[i+len(sig):]
	var items [][]byte
	for len(p) >= 8 {
		g, e := binary.LittleEndian.Uint16(p), binary.LittleEndian.Uint16(p[2:])
		n := binary.LittleEndian.Uint32(p[4:])
		p = p[8:]
		if g == 0xFFFE && e == 0xE0DD {
			break
		}
		if g != 0xFFFE || e != 0xE000 || uint64(n) > uint64(len(p)) {
			return nil, fmt.Errorf("bad item at %d", len(data)-len(p))
		}
		items = append(items, p[:n])
		p = p[n:]
	}
	if len(items) < 2 {
		return nil, errors.New("no fragments")
	}
	bot, frags := items[0], items[1:]
	if frames <= 1 {
		return [][]byte{bytes.Join(frags, nil)}, nil
	}
	if len(frags) == frames {
		return frags, nil
	}
	if len(bot) == 4*frames {
		// group fragments by offset
		var out [][]byte
		pos := 0
		starts := map[int]int{}
		for k, f := range frags {
			starts[pos] = k
			pos += 8 + len(f)
		}
		for fi := 0; fi < frames; fi++ {
			off := int(binary.LittleEndian.Uint32(bot[4*fi:]))
			end := pos
			if fi+1 < frames {
				end = int(binary.LittleEndian.Uint32(bot[4*fi+4:]))
			}
			k, ok := starts[off]
			if !ok {
				return nil, errors.New("bad offset table")
			}
			var fr []byte
			for q := off; q < end; {
				fr = append(fr, frags[k]...)
				q += 8 + len(frags[k])
				k++
			}
			out = append(out, fr)
		}
		return out, nil
	}
	// No offset table: a fragment that opens with a JPEG SOI or a JPEG 2000
	// SOC marker starts a new frame.
	var out [][]byte
	for _, f := range frags {
		if len(out) == 0 || bytes.HasPrefix(f, []byte{0xFF, 0xD8}) || bytes.HasPrefix(f, []byte{0xFF, 0x4F}) {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], f...)
	}
	if len(out) == frames {
		return out, nil
	}
	return nil, fmt.Errorf("%d fragments for %d frames and no offset table", len(frags), frames)
}

// Canonical returns a copy of decoded samples masked to BitsStored and
// sign-extended when signed, as the frame layer does, so that the bytes
// hash like the corpus manifest's pixel_sha256.
func Canonical(p codec.Params, b []byte) []byte {
	out := append([]byte(nil), b...)
	bs := uint(p.BitsStored)
	switch p.BitsAllocated {
	case 8:
		for i, v := range out {
			out[i] = byte(MaskExtend(uint32(v), bs, p.Signed))
		}
	case 16:
		for i := 0; i+1 < len(out); i += 2 {
			binary.LittleEndian.PutUint16(out[i:], uint16(MaskExtend(uint32(binary.LittleEndian.Uint16(out[i:])), bs, p.Signed)))
		}
	case 32:
		for i := 0; i+3 < len(out); i += 4 {
			binary.LittleEndian.PutUint32(out[i:], MaskExtend(binary.LittleEndian.Uint32(out[i:]), bs, p.Signed))
		}
	}
	return out
}

// MaskExtend keeps the low bits of v and sign-extends them when signed.
func MaskExtend(v uint32, bits uint, signed bool) uint32 {
	if bits >= 32 {
		return v
	}
	v &= 1<<bits - 1
	if signed && v&(1<<(bits-1)) != 0 {
		v |= ^uint32(0) << bits
	}
	return v
}
