package jpeg

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"os"
	"strconv"
	"strings"
	"testing"

	"lightbox/backend/codec"
	"lightbox/backend/codec/internal/testframes"
)

var jpegTS = map[string]bool{"jpeg-baseline": true, "jpeg-extended": true, "jpeg-lossless": true, "jpeg-lossless-sv1": true}

// sampleValue returns the canonical sample s of pixel (x, y) as an integer.
func sampleValue(p codec.Params, b []byte, x, y, s int) int {
	i := (y*p.Columns+x)*p.SamplesPerPixel + s
	var v uint32
	if p.BitsAllocated == 16 {
		v = uint32(binary.LittleEndian.Uint16(b[2*i:]))
	} else {
		v = uint32(b[i])
	}
	v = testframes.MaskExtend(v, uint(p.BitsStored), p.Signed)
	if p.Signed {
		if p.BitsAllocated == 16 {
			return int(int16(v))
		}
		return int(int8(v))
	}
	return int(v)
}

// rescale reads RescaleSlope and RescaleIntercept from the explicit-VR
// bytes of a file (1 and 0 when absent).
func rescale(t *testing.T, data []byte) (slope, intercept float64) {
	ds := func(elem byte, def float64) float64 {
		i := bytes.Index(data, []byte{0x28, 0x00, elem, 0x10, 'D', 'S'})
		if i < 0 {
			return def
		}
		n := int(binary.LittleEndian.Uint16(data[i+6:]))
		s := strings.TrimSpace(strings.TrimRight(string(data[i+8:i+8+n]), "\x00"))
		if j := strings.IndexByte(s, '\\'); j >= 0 {
			s = s[:j]
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("DS value %q: %v", s, err)
		}
		return v
	}
	return ds(0x53, 1), ds(0x52, 0)
}

type point struct {
	x, y, frame int
	vals        []float64
}

func parseSamples(t *testing.T, s string) []point {
	var pts []point
	for _, item := range strings.Split(s, ";") {
		if item == "" {
			continue
		}
		k, v, ok := strings.Cut(item, "=")
		f := strings.Split(k, ",")
		if !ok || len(f) != 3 {
			t.Fatalf("bad sample %q", item)
		}
		var pt point
		pt.x, _ = strconv.Atoi(f[0])
		pt.y, _ = strconv.Atoi(f[1])
		pt.frame, _ = strconv.Atoi(f[2])
		for _, c := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '/' }) {
			fv, err := strconv.ParseFloat(c, 64)
			if err != nil {
				t.Fatalf("bad sample %q", item)
			}
			pt.vals = append(pt.vals, fv)
		}
		pts = append(pts, pt)
	}
	return pts
}

// decodeFile decodes every frame of a corpus file.
func decodeFile(t *testing.T, d *Decoder, r testframes.Row) ([][]byte, codec.Params) {
	nf, _ := strconv.Atoi(r["frames"])
	frames, err := testframes.Frames(r["abspath"], nf)
	if err != nil {
		t.Fatal(err)
	}
	p := testframes.Params(r)
	var out [][]byte
	for i, f := range frames {
		dst := make([]byte, p.FrameSize())
		if err := d.Decode(f, p, dst); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		out = append(out, dst)
	}
	return out, p
}

func TestCorpus(t *testing.T) {
	var d Decoder
	pass := map[string]int{}
	total := map[string]int{}
	for _, r := range testframes.Manifest(t) {
		ts := r["ts_key"]
		if !jpegTS[ts] || r["expect"] != "ok" {
			continue
		}
		total[ts]++
		ok := t.Run(r["path"], func(t *testing.T) {
			out, p := decodeFile(t, &d, r)
			if r["lossy"] == "0" {
				h := sha256.New()
				for _, f := range out {
					h.Write(testframes.Canonical(p, f))
				}
				if got := hex.EncodeToString(h.Sum(nil)); got != r["pixel_sha256"] {
					t.Errorf("sha256 %s, want %s", got, r["pixel_sha256"])
				}
				return
			}
			if r["samples"] == "-" || r["samples"] == "" {
				compareDCMTK(t, r["abspath"], out, p)
				return
			}
			tol, err := strconv.ParseFloat(r["tol"], 64)
			if err != nil {
				t.Fatalf("tol %q", r["tol"])
			}
			data, err := os.ReadFile(r["abspath"])
			if err != nil {
				t.Fatal(err)
			}
			slope, icpt := rescale(t, data)
			for _, pt := range parseSamples(t, r["samples"]) {
				for s, want := range pt.vals {
					got := float64(sampleValue(p, out[pt.frame], pt.x, pt.y, s))
					if p.SamplesPerPixel == 1 {
						got = got*slope + icpt
					}
					if got < want-tol || got > want+tol {
						t.Errorf("(%d,%d) frame %d sample %d: %g, want %g +- %g", pt.x, pt.y, pt.frame, s, got, want, tol)
					}
				}
			}
		})
		if ok {
			pass[ts]++
		}
	}
	for ts, n := range total {
		t.Logf("%s: %d/%d passed", ts, pass[ts], n)
	}
	if total["jpeg-lossless-sv1"] < 20 || total["jpeg-baseline"] < 20 {
		t.Fatalf("too few JPEG corpus files: %v", total)
	}
}
