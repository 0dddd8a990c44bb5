package jpeg2k

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"lightbox/backend/codec"
)

// A three-component stream coded without a multiple component transform
// whose data set says YBR_FULL decodes to RGB by the shared conversion; the
// same stream labelled RGB, and a stream with the transform, come back as
// coded.
func TestYBRFullWithoutMCT(t *testing.T) {
	bin, err := exec.LookPath("opj_compress")
	if err != nil {
		t.Fatal("opj_compress not installed (libopenjp2-tools; make test installs it)")
	}
	const w, h = 48, 40
	img := stressImage(w, h, 3, 8, false, 7)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.rawl")
	if err := writeRawl(in, img, 8); err != nil {
		t.Fatal(err)
	}
	coded := make([]byte, 0, w*h*3) // interleaved, as decoded
	for k := 0; k < w*h; k++ {
		coded = append(coded, byte(img[0][k]), byte(img[1][k]), byte(img[2][k]))
	}
	rgb := bytes.Clone(coded)
	codec.YBRFullToRGB(rgb, 1, 8)
	if bytes.Equal(rgb, coded) {
		t.Fatal("the conversion changed nothing: a useless test image")
	}
	for _, c := range []struct {
		mct   string
		photo string
		want  []byte
	}{
		{"0", "YBR_FULL", rgb},
		{"0", "YBR_FULL_422", rgb},
		{"0", "RGB", coded},
		{"1", "YBR_RCT", coded}, // RCT inverted by the decoder: the original samples
	} {
		out := filepath.Join(dir, "out"+c.mct+".j2k")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		msg, err := exec.CommandContext(ctx, bin, "-i", in, "-o", out, "-F", "48,40,3,8,u", "-mct", c.mct).CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("opj_compress: %v\n%s", err, msg)
		}
		cs, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if info, _ := ReadInfo(cs); info.MCT != (c.mct == "1") {
			t.Fatalf("-mct %s: ReadInfo says MCT=%v", c.mct, info.MCT)
		}
		p := codec.Params{Rows: h, Columns: w, SamplesPerPixel: 3, BitsAllocated: 8, BitsStored: 8, Photometric: c.photo}
		dst := make([]byte, p.FrameSize())
		var d Decoder
		if err := d.Decode(cs, p, dst); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(dst, c.want) {
			t.Errorf("-mct %s labelled %s: output differs from what was expected", c.mct, c.photo)
		}
	}
}
