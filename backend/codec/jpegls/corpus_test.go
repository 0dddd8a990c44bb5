package jpegls

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"lightbox/backend/codec"
	"lightbox/backend/codec/internal/testframes"
)

// sampleValue returns the canonical sample c of pixel (x,y) as a signed int.
func sampleValue(p codec.Params, buf []byte, x, y, c int) int {
	bps := p.BitsAllocated / 8
	o := ((y*p.Columns+x)*p.SamplesPerPixel + c) * bps
	switch bps {
	case 1:
		if p.Signed {
			return int(int8(buf[o]))
		}
		return int(buf[o])
	case 2:
		v := binary.LittleEndian.Uint16(buf[o:])
		if p.Signed {
			return int(int16(v))
		}
		return int(v)
	}
	v := binary.LittleEndian.Uint32(buf[o:])
	if p.Signed {
		return int(int32(v))
	}
	return int(v)
}

// rescale finds (0028,1053) RescaleSlope and (0028,1052) RescaleIntercept
// (DS, explicit VR little endian) in the file bytes.
func rescale(t *testing.T, path string) (slope, intercept float64) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	slope = 1
	find := func(elem uint16) (float64, bool) {
		tag := []byte{0x28, 0x00, byte(elem), byte(elem >> 8), 'D', 'S'}
		i := bytes.Index(data, tag)
		if i < 0 || i+8 > len(data) {
			return 0, false
		}
		n := int(binary.LittleEndian.Uint16(data[i+6:]))
		if i+8+n > len(data) {
			return 0, false
		}
		s := strings.TrimSpace(strings.Split(string(data[i+8:i+8+n]), `\`)[0])
		v, err := strconv.ParseFloat(strings.TrimRight(s, "\x00"), 64)
		return v, err == nil
	}
	if v, ok := find(0x1053); ok {
		slope = v
	}
	if v, ok := find(0x1052); ok {
		intercept = v
	}
	return slope, intercept
}

type point struct {
	x, y, frame int
	vals        []float64
}

func parseSamples(t *testing.T, s string) []point {
	var pts []point
	for _, item := range strings.Split(s, ";") {
		if item == "" || item == "-" {
			continue
		}
		lhs, rhs, ok := strings.Cut(item, "=")
		if !ok {
			t.Fatalf("bad sample %q", item)
		}
		xyz := strings.Split(lhs, ",")
		if len(xyz) != 3 {
			t.Fatalf("bad sample %q", item)
		}
		var p point
		p.x, _ = strconv.Atoi(xyz[0])
		p.y, _ = strconv.Atoi(xyz[1])
		p.frame, _ = strconv.Atoi(xyz[2])
		for _, v := range strings.Split(rhs, "/") {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("bad sample %q", item)
			}
			p.vals = append(p.vals, f)
		}
		pts = append(pts, p)
	}
	return pts
}

func jpeglsRows(t testing.TB) []testframes.Row {
	var rows []testframes.Row
	for _, r := range testframes.Manifest(t) {
		if r["expect"] == "ok" && (r["ts_key"] == "jpegls-lossless" || r["ts_key"] == "jpegls-near") {
			rows = append(rows, r)
		}
	}
	return rows
}

func TestCorpus(t *testing.T) {
	var dec Decoder
	rows := jpeglsRows(t)
	if len(rows) < 60 {
		t.Fatalf("only %d JPEG-LS rows in the corpus manifest", len(rows))
	}
	var lossless, near int
	for _, r := range rows {
		t.Run(r["path"], func(t *testing.T) {
			p := testframes.Params(r)
			nframes, _ := strconv.Atoi(r["frames"])
			frames, err := testframes.Frames(r["abspath"], nframes)
			if err != nil {
				t.Fatal(err)
			}
			var all []byte
			decoded := make([][]byte, len(frames))
			for i, f := range frames {
				dst := make([]byte, p.FrameSize())
				if err := dec.Decode(f, p, dst); err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				decoded[i] = testframes.Canonical(p, dst)
				all = append(all, decoded[i]...)
			}
			if r["lossy"] == "0" {
				sum := sha256.Sum256(all)
				if got := hex.EncodeToString(sum[:]); got != r["pixel_sha256"] {
					t.Fatalf("sha256 %s, want %s", got, r["pixel_sha256"])
				}
				lossless++
				return
			}
			tol, err := strconv.ParseFloat(r["tol"], 64)
			if err != nil {
				t.Fatalf("tol %q", r["tol"])
			}
			slope, icpt := 1.0, 0.0
			if p.SamplesPerPixel == 1 {
				slope, icpt = rescale(t, r["abspath"])
			}
			pts := parseSamples(t, r["samples"])
			if len(pts) == 0 {
				t.Fatal("no sample points")
			}
			for _, pt := range pts {
				if pt.frame >= len(decoded) || len(pt.vals) != p.SamplesPerPixel {
					t.Fatalf("bad point %+v", pt)
				}
				for c, want := range pt.vals {
					got := float64(sampleValue(p, decoded[pt.frame], pt.x, pt.y, c))*slope + icpt
					if math.Abs(got-want) > tol {
						t.Errorf("(%d,%d) frame %d sample %d: %v, want %v +- %v", pt.x, pt.y, pt.frame, c, got, want, tol)
					}
				}
			}
			near++
		})
	}
	t.Logf("corpus: %d lossless files exact, %d near-lossless files within tol, of %d", lossless, near, len(rows))
	if lossless+near != len(rows) {
		t.Errorf("%d of %d corpus files failed", len(rows)-lossless-near, len(rows))
	}
}
