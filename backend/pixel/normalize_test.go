package pixel

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// normalizeRef is normalize written plainly, sample by sample: shift
// right, mask to BitsStored, sign-extend when signed.
func normalizeRef(b []byte, in *Info, shift int) {
	w, bs := in.BytesPerSample(), in.BitsStored
	for i := 0; i+w <= len(b); i += w {
		var v uint64
		for k := w - 1; k >= 0; k-- {
			v = v<<8 | uint64(b[i+k])
		}
		v = v >> shift & (1<<bs - 1)
		if in.Signed() && v>>(bs-1) == 1 {
			v |= ^uint64(0) << bs
		}
		for k := range w {
			b[i+k] = byte(v >> (8 * k))
		}
	}
}

func TestNormalizeMatchesPlainVersion(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	raw := make([]byte, 4*1000+3) // a trailing partial sample too
	for i := range raw {
		raw[i] = byte(rng.Uint32())
	}
	for _, ba := range []int{8, 16, 32} {
		for bs := 1; bs <= ba; bs++ {
			for _, pr := range []int{0, 1} {
				for _, shift := range []int{0, 1, ba - bs} {
					if bs+shift > ba {
						continue
					}
					in := &Info{BitsAllocated: ba, BitsStored: bs, HighBit: bs + shift - 1, PixelRepresentation: pr}
					got, want := bytes.Clone(raw), bytes.Clone(raw)
					n := len(raw) / (ba / 8) * (ba / 8)
					normalize(got[:n], in, shift)
					normalizeRef(want[:n], in, shift)
					if !bytes.Equal(got, want) {
						t.Fatalf("bits %d/%d, pixrep %d, shift %d: differs from the plain version", ba, bs, pr, shift)
					}
				}
			}
		}
	}
}

// BenchmarkNormalize12 normalises a 512x512 frame of 16-bit samples with
// 12 bits stored, signed (the common CT case).
func BenchmarkNormalize12(b *testing.B) {
	in := &Info{BitsAllocated: 16, BitsStored: 12, HighBit: 11, PixelRepresentation: 1}
	buf := make([]byte, 512*512*2)
	for i := 0; i < len(buf); i += 2 {
		binary.LittleEndian.PutUint16(buf[i:], uint16(i*7))
	}
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		normalize(buf, in, 0)
	}
}

// BenchmarkClampStored12 clamps a 512x512 frame of 16-bit samples with 12
// bits stored, signed (lossy CT).
func BenchmarkClampStored12(b *testing.B) {
	in := &Info{BitsAllocated: 16, BitsStored: 12, HighBit: 11, PixelRepresentation: 1}
	buf := make([]byte, 512*512*2)
	for i := 0; i < len(buf); i += 2 {
		binary.LittleEndian.PutUint16(buf[i:], uint16(i*7))
	}
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		clampStored(buf, in)
	}
}

// clampRef is clampStored written plainly.
func clampRef(b []byte, in *Info) {
	w, bs := in.BytesPerSample(), in.BitsStored
	lo, hi := int64(0), int64(1)<<bs-1
	if in.Signed() {
		lo, hi = -(int64(1) << (bs - 1)), int64(1)<<(bs-1)-1
	}
	for i := 0; i+w <= len(b); i += w {
		var u uint64
		for k := w - 1; k >= 0; k-- {
			u = u<<8 | uint64(b[i+k])
		}
		v := int64(u)
		if in.Signed() {
			v = int64(u<<(64-8*w)) >> (64 - 8*w)
		}
		v = min(max(v, lo), hi)
		for k := range w {
			b[i+k] = byte(v >> (8 * k))
		}
	}
}

func TestClampStoredMatchesPlainVersion(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	raw := make([]byte, 4*1000)
	for i := range raw {
		raw[i] = byte(rng.Uint32())
	}
	for _, ba := range []int{8, 16, 32} {
		for bs := 1; bs < ba; bs++ {
			for _, pr := range []int{0, 1} {
				in := &Info{BitsAllocated: ba, BitsStored: bs, HighBit: bs - 1, PixelRepresentation: pr}
				got, want := bytes.Clone(raw), bytes.Clone(raw)
				clampStored(got, in)
				clampRef(want, in)
				if !bytes.Equal(got, want) {
					t.Fatalf("bits %d/%d, pixrep %d: differs from the plain version", ba, bs, pr)
				}
			}
		}
	}
}
