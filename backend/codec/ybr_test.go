package codec

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestYBRFullToRGBMatchesPydicom converts every (Y, Cb) pair with a range
// of Cr values, 8-bit, and compares with pydicom's convert_color_space,
// the reference of the corpus and of the JPEG-LS stress cases.
func TestYBRFullToRGBMatchesPydicom(t *testing.T) {
	var crs []int
	for cr := 0; cr < 256; cr += 5 {
		crs = append(crs, cr)
	}
	crs = append(crs, 126, 127, 128, 129, 130, 254)
	var in []byte
	for y := range 256 {
		for cb := range 256 {
			for _, cr := range crs {
				in = append(in, byte(y), byte(cb), byte(cr))
			}
		}
	}
	dir := t.TempDir()
	src, ref := filepath.Join(dir, "ybr.raw"), filepath.Join(dir, "rgb.raw")
	if err := os.WriteFile(src, in, 0o644); err != nil {
		t.Fatal(err)
	}
	script := `
import sys, numpy as np
from pydicom.pixel_data_handlers.util import convert_color_space
a = np.fromfile(sys.argv[1], np.uint8).reshape(1, -1, 3)
convert_color_space(a, "YBR_FULL", "RGB").tofile(sys.argv[2])
`
	if out, err := exec.Command("/usr/bin/python3", "-c", script, src, ref).CombinedOutput(); err != nil {
		t.Fatalf("pydicom reference (Debian python3-pydicom, python3-numpy): %v\n%s", err, out)
	}
	want, err := os.ReadFile(ref)
	if err != nil {
		t.Fatal(err)
	}
	got := bytes.Clone(in)
	YBRFullToRGB(got, 1, 8)
	if len(want) != len(got) {
		t.Fatalf("reference has %d bytes, want %d", len(want), len(got))
	}
	bad := 0
	for i := range got {
		if got[i] != want[i] {
			if bad++; bad <= 5 {
				p := i / 3 * 3
				t.Errorf("Y,Cb,Cr %v: sample %d is %d, pydicom %d", in[p:p+3], i%3, got[i], want[i])
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d samples differ from pydicom", bad, len(got))
	}
}

// TestYBRFullToRGBWide checks 12, 16 and 32-bit samples against the exact
// equations (within one unit: the rounding of single precision) and the
// clamp, and that other sample sizes and a partial pixel are left alone.
func TestYBRFullToRGBWide(t *testing.T) {
	for _, tc := range []struct{ bps, bits int }{{2, 12}, {2, 16}, {4, 32}, {4, 20}, {2, 0}} {
		bits := tc.bits
		if bits == 0 {
			bits = 16 // out of range: the full sample width
		}
		top := float64(uint64(1)<<bits - 1)
		half := float64(uint64(1) << (bits - 1))
		vals := []float64{0, 1, half - 1, half, half + 1, top / 3, top - 1, top}
		var in []byte
		put := func(v float64) {
			if tc.bps == 2 {
				in = binary.LittleEndian.AppendUint16(in, uint16(v))
			} else {
				in = binary.LittleEndian.AppendUint32(in, uint32(v))
			}
		}
		get := func(b []byte, i int) float64 {
			if tc.bps == 2 {
				return float64(binary.LittleEndian.Uint16(b[i*2:]))
			}
			return float64(binary.LittleEndian.Uint32(b[i*4:]))
		}
		for _, y := range vals {
			for _, cb := range vals {
				for _, cr := range vals {
					put(y)
					put(cb)
					put(cr)
				}
			}
		}
		in = append(in, 7) // partial pixel
		got := bytes.Clone(in)
		YBRFullToRGB(got, tc.bps, tc.bits)
		if got[len(got)-1] != 7 {
			t.Errorf("%+v: partial pixel changed", tc)
		}
		for p := 0; p+3 <= len(in)/tc.bps; p += 3 {
			y, cb, cr := get(in, p), get(in, p+1)-half, get(in, p+2)-half
			exact := [3]float64{y + 1.402*cr, y - 0.114*1.772/0.587*cb - 0.299*1.402/0.587*cr, y + 1.772*cb}
			for k, e := range exact {
				w := min(max(math.Round(e), 0), top)
				if g := get(got, p+k); math.Abs(g-w) > 1 {
					t.Fatalf("%+v: Y,Cb,Cr %v %v %v sample %d is %v, want %v", tc, y, cb+half, cr+half, k, g, w)
				}
			}
		}
	}
	b := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9}
	YBRFullToRGB(b, 3, 24)
	if !bytes.Equal(b, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9}) {
		t.Errorf("3-byte samples changed: %v", b)
	}
}
