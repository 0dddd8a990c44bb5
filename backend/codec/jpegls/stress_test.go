package jpegls

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"lightbox/backend/codec"
	"lightbox/backend/codec/internal/testframes"
)

// stressCase is one line of the manifest written by testdata/stress.py.
type stressCase struct {
	name      string
	p         codec.Params
	kind      string // dicom: a JPEG-LS DICOM file; jls: a raw codestream
	jls, ref  string
	refSource string // dcmdjpls, original, charls, or dcmdjpls+pydicom (YBR_FULL to RGB)
}

// buildStressSet runs testdata/stress.py (pydicom, numpy, DCMTK, CharLS)
// in a temporary directory and reads its manifest.
func buildStressSet(t *testing.T) []stressCase {
	t.Helper()
	for _, tool := range []string{"/usr/bin/python3", "dcmcjpls", "dcmdjpls"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("stress set needs %s (make test installs it): %v", tool, err)
		}
	}
	dir := t.TempDir()
	out, err := exec.Command("/usr/bin/python3", "testdata/stress.py", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("stress.py: %v\n%s", err, out)
	}
	t.Logf("stress.py: %s", bytes.TrimSpace(out))
	data, err := os.ReadFile(filepath.Join(dir, "manifest.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []stressCase
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 12 {
			t.Fatalf("manifest line %q", line)
		}
		n := make([]int, 6)
		for i := range n {
			n[i], _ = strconv.Atoi(f[1+i])
		}
		p := codec.Params{Rows: n[0], Columns: n[1], SamplesPerPixel: n[2], BitsAllocated: n[3], BitsStored: n[4],
			Signed: n[5] == 1, Photometric: f[11]}
		cases = append(cases, stressCase{name: f[0], p: p, kind: f[7], jls: f[8], ref: f[9], refSource: f[10]})
	}
	return cases
}

func (c stressCase) codestream(t *testing.T) []byte {
	t.Helper()
	if c.kind == "dicom" {
		fr, err := testframes.Frames(c.jls, 1)
		if err != nil {
			t.Fatal(err)
		}
		return fr[0]
	}
	b, err := os.ReadFile(c.jls)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestStress compares the decoder pixel for pixel with dcmdjpls (or the
// original image, or CharLS) on generated codestreams covering precisions
// 2-16, grey and RGB, the three interleave modes, NEAR 0-3, custom
// thresholds and RESET, LSE MAXVAL, restart intervals and the HP colour
// transforms.
func TestStress(t *testing.T) {
	if testing.Short() {
		t.Skip("stress set generation skipped in -short mode")
	}
	cases := buildStressSet(t)
	if len(cases) < 100 {
		t.Fatalf("only %d stress cases generated", len(cases))
	}
	var dec Decoder
	count := map[string]int{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := c.codestream(t)
			want, err := os.ReadFile(c.ref)
			if err != nil {
				t.Fatal(err)
			}
			dst := make([]byte, c.p.FrameSize())
			if len(want) == len(dst)+1 && c.kind == "dicom" {
				want = want[:len(dst)] // DICOM pads odd-length values
			}
			if len(want) != len(dst) {
				t.Fatalf("reference has %d bytes, frame %d", len(want), len(dst))
			}
			if err := dec.Decode(src, c.p, dst); err != nil {
				t.Fatal(err)
			}
			if i := firstDiff(dst, want); i >= 0 {
				t.Fatalf("differs from %s at byte %d (pixel %d): got %d, want %d", c.refSource, i,
					i/(c.p.BitsAllocated/8)/c.p.SamplesPerPixel, dst[i], want[i])
			}
			count[c.refSource]++
		})
	}
	total := 0
	for _, n := range count {
		total += n
	}
	t.Logf("stress: %d of %d cases identical (by reference: %v)", total, len(cases), count)
}

func firstDiff(a, b []byte) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}
