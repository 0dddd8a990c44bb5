package jpeg2k

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"lightbox/backend/codec"
	"lightbox/backend/codec/internal/testframes"
)

// sampleAt returns the canonical (masked, sign-extended) value of sample
// (x, y, comp).
func sampleAt(p codec.Params, frame []byte, x, y, comp int) int64 {
	bps := (p.BitsAllocated + 7) / 8
	i := ((y*p.Columns+x)*p.SamplesPerPixel + comp) * bps
	var v uint64
	for k := 0; k < bps; k++ {
		v |= uint64(frame[i+k]) << (8 * k)
	}
	mask := uint64(1)<<p.BitsStored - 1
	v &= mask
	if p.Signed && v>>(p.BitsStored-1)&1 == 1 {
		return int64(v) - int64(mask) - 1
	}
	return int64(v)
}

// rescale finds Rescale Slope/Intercept (DS) in the file bytes.
func rescale(file []byte) (slope, intercept float64) {
	slope = 1
	get := func(elem byte) (float64, bool) {
		sig := []byte{0x28, 0x00, elem, 0x10, 'D', 'S'}
		i := bytes.Index(file, sig)
		if i < 0 || i+8 > len(file) {
			return 0, false
		}
		n := int(file[i+6]) | int(file[i+7])<<8
		if i+8+n > len(file) {
			return 0, false
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimRight(string(file[i+8:i+8+n]), "\x00 ")), 64)
		return v, err == nil
	}
	if v, ok := get(0x53); ok {
		slope = v
	}
	if v, ok := get(0x52); ok {
		intercept = v
	}
	return
}

type corpusFile struct {
	row    testframes.Row
	params codec.Params
	frames [][]byte
}

func corpusJ2K(t testing.TB) []corpusFile {
	var out []corpusFile
	for _, r := range testframes.Manifest(t) {
		if r["expect"] != "ok" || (r["ts_key"] != "j2k-lossless" && r["ts_key"] != "j2k") {
			continue
		}
		n, _ := strconv.Atoi(r["frames"])
		fr, err := testframes.Frames(r["abspath"], n)
		if err != nil {
			t.Fatalf("%s: %v", r["path"], err)
		}
		out = append(out, corpusFile{r, testframes.Params(r), fr})
	}
	if len(out) == 0 {
		t.Fatal("no JPEG 2000 files in the corpus")
	}
	return out
}

func TestCorpus(t *testing.T) {
	var d Decoder
	files := corpusJ2K(t)
	var lossless, lossy, other, pass int
	for _, f := range files {
		t.Run(f.row["path"], func(t *testing.T) {
			p := f.params
			var decoded [][]byte
			for i, fr := range f.frames {
				dst := make([]byte, p.FrameSize())
				if err := d.Decode(fr, p, dst); err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				decoded = append(decoded, dst)
			}
			switch {
			case f.row["pixel_sha256"] != "-" && f.row["pixel_sha256"] != "":
				lossless++
				h := sha256.New()
				for _, fr := range decoded {
					h.Write(testframes.Canonical(p, fr))
				}
				if got := hex.EncodeToString(h.Sum(nil)); got != f.row["pixel_sha256"] {
					t.Fatalf("sha256 %s, want %s", got, f.row["pixel_sha256"])
				}
			case f.row["samples"] != "-" && f.row["samples"] != "":
				lossy++
				file, err := os.ReadFile(f.row["abspath"])
				if err != nil {
					t.Fatal(err)
				}
				slope, icpt := rescale(file)
				tol, _ := strconv.ParseFloat(f.row["tol"], 64)
				checked := 0
				for _, s := range strings.Split(f.row["samples"], ";") {
					kv := strings.SplitN(s, "=", 2)
					xyz := strings.Split(kv[0], ",")
					x, _ := strconv.Atoi(xyz[0])
					y, _ := strconv.Atoi(xyz[1])
					fn, _ := strconv.Atoi(xyz[2])
					for c, ws := range strings.Split(kv[1], "/") {
						want, _ := strconv.ParseFloat(ws, 64)
						got := float64(sampleAt(p, decoded[fn], x, y, c))
						if p.SamplesPerPixel == 1 {
							got = got*slope + icpt
						}
						if math.Abs(got-want) > tol {
							t.Errorf("(%d,%d) frame %d comp %d = %g, want %g ± %g", x, y, fn, c, got, want, tol)
						}
						checked++
					}
				}
				if checked == 0 {
					t.Fatal("no sample checked")
				}
			default:
				other++
				// No expected values in the manifest: compare with OpenJPEG.
				compareWithOpenJPEG(t, f.frames[0], p, decoded[0])
			}
			if !t.Failed() {
				pass++
			}
		})
	}
	t.Logf("corpus: %d files (%d lossless by sha256, %d lossy by samples, %d against opj_decompress), %d pass",
		len(files), lossless, lossy, other, pass)
}
