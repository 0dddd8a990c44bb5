package pixel

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"

	"lightbox/backend/dcm"
	"lightbox/backend/testcorpus"
)

type point struct {
	x, y, frame int
	want        []float64 // one value (monochrome/palette) or R,G,B
}

func parseSamples(t *testing.T, s string) []point {
	t.Helper()
	if s == "" || s == "-" {
		return nil
	}
	var out []point
	for _, item := range strings.Split(s, ";") {
		pos, val, ok := strings.Cut(item, "=")
		if !ok {
			t.Fatalf("bad sample %q", item)
		}
		c := strings.Split(pos, ",")
		if len(c) != 3 {
			t.Fatalf("bad sample position %q", pos)
		}
		var p point
		var err error
		for i, dst := range []*int{&p.x, &p.y, &p.frame} {
			if *dst, err = strconv.Atoi(c[i]); err != nil {
				t.Fatalf("bad sample position %q", pos)
			}
		}
		for _, v := range strings.Split(val, "/") {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("bad sample value %q", val)
			}
			p.want = append(p.want, f)
		}
		out = append(out, p)
	}
	return out
}

type tally struct{ pass, fail, skip int }

// TestCorpus decodes every corpus file that must load (expect=ok): lossless
// files must hash to pixel_sha256, every file must match its sample points
// within tol. Transfer syntaxes without a codec in DefaultCodecs must give
// ErrUnsupportedTS and are reported as skipped.
func TestCorpus(t *testing.T) {
	rows := testcorpus.Manifest(t)
	codecs := DefaultCodecs()
	ctx := context.Background()
	counts := map[string]*tally{}
	count := func(ts string) *tally {
		if counts[ts] == nil {
			counts[ts] = &tally{}
		}
		return counts[ts]
	}
	for _, r := range rows {
		if r["expect"] != "ok" {
			continue
		}
		r := r
		ts := r["ts_key"]
		if ts == "" || ts == "-" {
			ts = "?"
		}
		t.Run(r["path"], func(t *testing.T) {
			tl := count(ts)
			img, err := Open(r["abspath"], WithCodecs(codecs))
			noRef := (r["pixel_sha256"] == "-" || r["pixel_sha256"] == "") && (r["samples"] == "-" || r["samples"] == "")
			if errors.Is(err, ErrNoPixelData) && noRef {
				// a data set without Pixel Data (charset test files): parse only
				tl.pass++
				return
			}
			if err != nil {
				if _, ok := codecs[r["ts_uid"]]; !ok && errors.Is(err, ErrUnsupportedTS) {
					tl.skip++
					return
				}
				tl.fail++
				t.Fatalf("open: %v", err)
			}
			defer img.Close()
			if r["rows"] != "-" {
				checkInfo(t, img.Info, r)
			}
			h := sha256.New()
			if err := img.Canonical(ctx, h); err != nil {
				tl.fail++
				t.Fatalf("decode: %v", err)
			}
			if want := r["pixel_sha256"]; want != "" && want != "-" {
				if got := hex.EncodeToString(h.Sum(nil)); got != want {
					tl.fail++
					t.Fatalf("pixel_sha256 %s, want %s", got, want)
				}
			}
			tol := 0.0
			if s := r["tol"]; s != "" && s != "-" {
				tol, _ = strconv.ParseFloat(s, 64)
			}
			for _, p := range parseSamples(t, r["samples"]) {
				s, err := img.Probe(ctx, p.x, p.y, p.frame)
				if err != nil {
					tl.fail++
					t.Fatalf("probe %v: %v", p, err)
				}
				got := []float64{s.Value}
				if s.Color {
					got = []float64{float64(s.RGB[0]), float64(s.RGB[1]), float64(s.RGB[2])}
				}
				if len(got) != len(p.want) {
					tl.fail++
					t.Fatalf("probe %d,%d,%d: %v, want %v", p.x, p.y, p.frame, got, p.want)
				}
				for i := range got {
					if math.Abs(got[i]-p.want[i]) > tol+1e-9 {
						tl.fail++
						t.Fatalf("probe %d,%d,%d: %v, want %v (tol %v)", p.x, p.y, p.frame, got, p.want, tol)
					}
				}
			}
			tl.pass++
		})
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var skipped []string
	for _, k := range keys {
		c := counts[k]
		t.Logf("%-20s pass %3d  fail %3d  skipped (no codec) %3d", k, c.pass, c.fail, c.skip)
		if c.skip > 0 {
			skipped = append(skipped, k)
		}
	}
	if len(skipped) > 0 {
		t.Logf("skipped transfer syntaxes (codec absent from DefaultCodecs): %s", strings.Join(skipped, ", "))
	}
}

func checkInfo(t *testing.T, in Info, r testcorpus.Row) {
	t.Helper()
	atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
	if in.Rows != atoi(r["rows"]) || in.Columns != atoi(r["cols"]) || in.SamplesPerPixel != atoi(r["spp"]) {
		t.Errorf("size %dx%dx%d, manifest %sx%sx%s", in.Rows, in.Columns, in.SamplesPerPixel, r["rows"], r["cols"], r["spp"])
	}
	if f := atoi(r["frames"]); f > 0 && in.Frames != f {
		t.Errorf("frames %d, manifest %d", in.Frames, f)
	}
	bits := fmt.Sprintf("%d/%d/%d/%d", in.BitsAllocated, in.BitsStored, in.HighBit, in.PixelRepresentation)
	if bits != r["bits"] {
		t.Errorf("bits %s, manifest %s", bits, r["bits"])
	}
}

// TestMalformed opens and decodes every file that must fail (expect=error)
// or may load (lenient): no panic, and errors where errors are expected.
func TestMalformed(t *testing.T) {
	rows := testcorpus.Manifest(t)
	ctx := context.Background()
	n := 0
	for _, r := range rows {
		if r["expect"] != "error" && r["expect"] != "lenient" {
			continue
		}
		n++
		r := r
		t.Run(r["path"], func(t *testing.T) {
			err := decodeAll(ctx, r["abspath"])
			if r["expect"] == "error" && err == nil {
				t.Fatalf("decoded without error; %s", r["note"])
			}
			if err != nil && r["expect"] == "error" && !isKnown(err) {
				t.Errorf("error wraps no sentinel: %v", err)
			}
			t.Logf("%s: %v", r["expect"], err)
		})
	}
	if n < 20 {
		t.Fatalf("only %d malformed/lenient files in the manifest", n)
	}
}

func decodeAll(ctx context.Context, path string) error {
	img, err := Open(path, WithMaxFrameBytes(64<<20))
	if err != nil {
		return err
	}
	defer img.Close()
	return img.Canonical(ctx, discard{})
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }

func isKnown(err error) bool {
	for _, s := range []error{ErrInvalidImage, ErrNoPixelData, ErrUnsupportedTS, ErrUnsupported, ErrTooLarge,
		dcm.ErrMalformed, dcm.ErrNotDICOM} {
		if errors.Is(err, s) {
			return true
		}
	}
	return strings.Contains(err.Error(), "codestream")
}
