package render

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"lightbox/backend/pixel"
	"lightbox/backend/testcorpus"
)

// TestGoldenDCMTK renders corpus files and compares them with DCMTK's
// dcm2pnm / dcmj2pnm at the same window: every 8-bit sample within +-1.
func TestGoldenDCMTK(t *testing.T) {
	dir := testcorpus.Dir(t)
	cases := []struct {
		file string
		tool string
		args []string
		win  *Window
		// tol, when above 1, is a tolerance forced by a decoding difference
		// before the render (explained in why); the render itself is exact.
		tol int
		why string
	}{
		{"images/ct/ele/ct_ele_01.dcm", "dcm2pnm", []string{"+Ww", "40", "400"}, &Window{Center: 40, Width: 400}, 0, ""},
		{"images/ct/ele/ct_ele_01.dcm", "dcm2pnm", []string{"+Wi", "1"}, nil, 0, ""},
		{"images/ct/ele/ct_ele_01.dcm", "dcm2pnm", []string{"+Ww", "-500", "1500"}, &Window{Center: -500, Width: 1500}, 0, ""},
		{"images/ct/ele/ct_ele_01.dcm", "dcm2pnm", []string{"+Ww", "40", "400", "+Wfs"}, &Window{Center: 40, Width: 400, Function: Sigmoid}, 0, ""},
		{"images/ct/ebe/ct_ebe_05.dcm", "dcm2pnm", []string{"+Ww", "0", "2"}, &Window{Center: 0, Width: 2}, 0, ""},
		{"images/ct-extremes/ct-extremes_ele.dcm", "dcm2pnm", []string{"+Ww", "0", "60000"}, &Window{Center: 0, Width: 60000}, 0, ""},
		{"images/mr/ile/mr_ile_03.dcm", "dcm2pnm", []string{"+Ww", "600", "1200"}, &Window{Center: 600, Width: 1200}, 0, ""},
		{"images/cr/cr_ele.dcm", "dcm2pnm", []string{"+Wi", "1"}, nil, 0, ""},
		{"images/cr/cr_deflate.dcm", "dcm2pnm", []string{"+Ww", "1000", "3000"}, &Window{Center: 1000, Width: 3000}, 0, ""},
		{"images/sc8/sc8_ele.dcm", "dcm2pnm", []string{"+Wm"}, nil, 0, ""},
		{"images/us/us_ele.dcm", "dcm2pnm", nil, nil, 0, ""},
		{"images/us/us_ele_planar1.dcm", "dcm2pnm", nil, nil, 0, ""},
		{"images/us/us_ele_ybrfull.dcm", "dcm2pnm", nil, nil, 2,
			"DCMTK converts YBR_FULL with its own integer approximation; ours is the corpus (pixel_sha256) formula"},
		{"images/pal/pal_ele.dcm", "dcm2pnm", nil, nil, 0, ""},
		{"images/ct/jpeg-lossless/ct_jpeg-lossless_01.dcm", "dcmj2pnm", []string{"+Ww", "40", "400"}, &Window{Center: 40, Width: 400}, 0, ""},
		{"images/ct/jpeg-lossless-sv1/ct_jpeg-lossless-sv1_07.dcm", "dcmj2pnm", []string{"+Wi", "1"}, nil, 0, ""},
		{"images/ct/jpeg-baseline/ct_jpeg-baseline_01.dcm", "dcmj2pnm", []string{"+Ww", "40", "400"}, &Window{Center: 40, Width: 400}, 24,
			"our IDCT and libjpeg's differ by +-1 stored level on 1% of pixels; RescaleSlope 32.12 at width 400 makes that 21 grey levels"},
		{"images/ct/jpeg-baseline/ct_jpeg-baseline_01.dcm", "dcmj2pnm", []string{"+Ww", "48", "8224"}, &Window{Center: 48, Width: 8224}, 2,
			"the same file at its full range: one stored level is one grey level"},
		{"images/mr/jpeg-extended/mr_jpeg-extended_01.dcm", "dcmj2pnm", []string{"+Ww", "1000", "2000"}, &Window{Center: 1000, Width: 2000}, 0, ""},
		{"images/cr/cr_jpeg-lossless.dcm", "dcmj2pnm", []string{"+Wi", "1"}, nil, 0, ""},
		{"images/us/us_jpeg-baseline.dcm", "dcmj2pnm", nil, nil, 2,
			"chroma upsampling and IDCT of our JPEG codec differ from libjpeg's by up to 2 levels"},
		{"images/ct/rle/ct_rle_01.dcm", "dcm2pnm", []string{"+Ww", "40", "400"}, &Window{Center: 40, Width: 400}, 0, ""},
	}
	ctx := context.Background()
	for _, c := range cases {
		c := c
		name := filepath.Base(c.file) + " " + c.tool
		for _, a := range c.args {
			name += " " + a
		}
		t.Run(name, func(t *testing.T) {
			tool, err := exec.LookPath(c.tool)
			if err != nil {
				t.Skipf("%s not installed", c.tool)
			}
			path := filepath.Join(dir, c.file)
			out := filepath.Join(t.TempDir(), "ref.png")
			args := append(append([]string{"+on"}, c.args...), path, out)
			if msg, err := exec.CommandContext(ctx, tool, args...).CombinedOutput(); err != nil {
				t.Fatalf("%s %v: %v\n%s", c.tool, args, err, msg)
			}
			refBytes, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := png.Decode(bytes.NewReader(refBytes))
			if err != nil {
				t.Fatal(err)
			}
			img, err := pixel.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			got, err := Render(ctx, img, 0, c.win)
			if err != nil {
				t.Fatal(err)
			}
			maxDiff, over := compare(t, got, ref)
			t.Logf("max difference %d, %d samples over 1", maxDiff, over)
			if c.tol > 1 {
				t.Logf("tolerance %d: %s", c.tol, c.why)
				if maxDiff > c.tol {
					t.Errorf("max difference %d from %s, tolerance %d", maxDiff, c.tool, c.tol)
				}
			} else if over > 0 {
				t.Errorf("%d samples differ by more than 1 from %s (max %d)", over, c.tool, maxDiff)
			}
		})
	}
}

// compare returns the largest per-sample difference and how many samples
// differ by more than 1.
func compare(t *testing.T, got, ref image.Image) (maxDiff, over int) {
	t.Helper()
	if got.Bounds() != ref.Bounds() {
		t.Fatalf("size %v, reference %v", got.Bounds(), ref.Bounds())
	}
	b := got.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r1, g1, b1, _ := got.At(x, y).RGBA()
			r2, g2, b2, _ := ref.At(x, y).RGBA()
			for _, d := range []int{absDiff(r1, r2), absDiff(g1, g2), absDiff(b1, b2)} {
				maxDiff = max(maxDiff, d)
				if d > 1 {
					over++
				}
			}
		}
	}
	return maxDiff, over
}

func absDiff(a, b uint32) int {
	d := int(a>>8) - int(b>>8)
	if d < 0 {
		return -d
	}
	return d
}
