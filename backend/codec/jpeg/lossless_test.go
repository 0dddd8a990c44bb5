package jpeg

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lightbox/backend/codec"
	"lightbox/backend/codec/internal/testframes"
)

// TestLosslessAgainstDCMTK encodes generated images with dcmcjpeg (process
// 14, each selection value, point transforms, precisions 2 to 16, signed
// and RGB) and checks that our decode equals dcmdjpeg's, byte for byte.
func TestLosslessAgainstDCMTK(t *testing.T) {
	tool(t, "dcmcjpeg")
	tests := []struct {
		bits   int
		signed bool
		spp    int
		sv, pt int
	}{
		{16, false, 1, 1, 0}, {16, false, 1, 2, 0}, {16, false, 1, 3, 0}, {16, false, 1, 4, 0},
		{16, false, 1, 5, 0}, {16, false, 1, 6, 0}, {16, false, 1, 7, 0},
		{16, true, 1, 6, 0}, {16, true, 1, 7, 0}, {16, false, 1, 6, 3},
		{12, false, 1, 6, 0}, {12, false, 1, 4, 2}, {15, true, 1, 5, 0},
		{8, false, 1, 6, 0}, {8, false, 1, 7, 1}, {5, false, 1, 6, 0}, {2, false, 1, 4, 0},
		{8, false, 3, 6, 0}, {8, false, 3, 1, 0}, {16, false, 3, 7, 0},
	}
	dir := t.TempDir()
	var specs []imageSpec
	for _, tc := range tests {
		specs = append(specs, imageSpec{tc.bits, tc.signed, tc.spp})
	}
	srcs := makeImages(t, dir, 67, 61, specs)
	var d Decoder
	for _, tc := range tests {
		name := fmt.Sprintf("bits%d_signed%v_spp%d_sv%d_pt%d", tc.bits, tc.signed, tc.spp, tc.sv, tc.pt)
		t.Run(name, func(t *testing.T) {
			src := srcs[imageSpec{tc.bits, tc.signed, tc.spp}]
			enc := filepath.Join(dir, name+".dcm")
			run(t, "dcmcjpeg", "+el", "+sv", fmt.Sprint(tc.sv), "+pt", fmt.Sprint(tc.pt), "+un", src, enc)
			ref := filepath.Join(dir, name+"_ref.dcm")
			run(t, "dcmdjpeg", "+px", "+te", enc, ref)
			want := nativePixels(t, ref)
			frames, err := testframes.Frames(enc, 1)
			if err != nil {
				t.Fatal(err)
			}
			p := codec.Params{Rows: 67, Columns: 61, SamplesPerPixel: tc.spp, BitsAllocated: 16, BitsStored: tc.bits, Signed: tc.signed, Photometric: "MONOCHROME2"}
			if tc.bits <= 8 {
				p.BitsAllocated = 8
			}
			if tc.spp == 3 {
				p.Photometric = "RGB"
			}
			dst := make([]byte, p.FrameSize())
			if err := d.Decode(frames[0], p, dst); err != nil {
				t.Fatal(err)
			}
			got := testframes.Canonical(p, dst)
			want = testframes.Canonical(p, want[:len(dst)])
			if diffs := countDiff(got, want); diffs > 0 {
				t.Errorf("%d bytes differ from dcmdjpeg", diffs)
			}
			// Without a point transform the result is also the source image.
			if tc.pt == 0 {
				orig := testframes.Canonical(p, nativePixels(t, src))
				if diffs := countDiff(got, orig); diffs > 0 {
					t.Errorf("%d bytes differ from the source image", diffs)
				}
			}
		})
	}
}

func countDiff(a, b []byte) int {
	n := 0
	for i := range a {
		if i >= len(b) || a[i] != b[i] {
			n++
		}
	}
	return n
}

// TestLossyAgainstDCMTK encodes generated images with dcmcjpeg in the lossy
// processes (baseline, extended 12-bit, spectral selection, full
// progressive; the colour subsamplings DCMTK offers) and compares our
// decode with dcmdjpeg's.
func TestLossyAgainstDCMTK(t *testing.T) {
	tool(t, "dcmcjpeg")
	tests := []struct {
		bits, spp int
		opts      []string
	}{
		{8, 1, []string{"+eb"}},
		{12, 1, []string{"+ee"}},
		{8, 1, []string{"+es"}},
		{12, 1, []string{"+es"}},
		{8, 1, []string{"+ep"}},
		{12, 1, []string{"+ep"}},
		{8, 3, []string{"+eb", "+s2"}},
		{8, 3, []string{"+eb", "+s4"}},
		{8, 3, []string{"+eb", "+n2"}},
		{8, 3, []string{"+eb", "+n1"}},
		{8, 3, []string{"+eb", "+np"}},
		{8, 3, []string{"+eb", "+cr"}},
		{8, 3, []string{"+ep", "+s2"}},
		{8, 3, []string{"+es", "+n1"}},
	}
	dir := t.TempDir()
	var specs []imageSpec
	for _, tc := range tests {
		specs = append(specs, imageSpec{tc.bits, false, tc.spp})
	}
	srcs := makeImages(t, dir, 75, 83, specs)
	var d Decoder
	for i, tc := range tests {
		t.Run(fmt.Sprintf("bits%d_spp%d_%s", tc.bits, tc.spp, strings.Join(tc.opts, "")), func(t *testing.T) {
			sub := filepath.Join(dir, fmt.Sprint(i))
			if err := mkdir(sub); err != nil {
				t.Fatal(err)
			}
			src := srcs[imageSpec{tc.bits, false, tc.spp}]
			enc := filepath.Join(sub, "enc.dcm")
			run(t, "dcmcjpeg", append(tc.opts, "+un", src, enc)...)
			frames, err := testframes.Frames(enc, 1)
			if err != nil {
				t.Fatal(err)
			}
			p := codec.Params{Rows: 75, Columns: 83, SamplesPerPixel: tc.spp, BitsAllocated: 16, BitsStored: tc.bits, Photometric: "MONOCHROME2"}
			if tc.bits <= 8 {
				p.BitsAllocated = 8
			}
			if tc.spp == 3 {
				p.Photometric = photometric(t, enc)
			}
			dst := make([]byte, p.FrameSize())
			if err := d.Decode(frames[0], p, dst); err != nil {
				t.Fatal(err)
			}
			compareDCMTK(t, enc, [][]byte{dst}, p)
		})
	}
}

// photometric reads the Photometric Interpretation of an Explicit VR LE
// file.
func photometric(t *testing.T, path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(data, []byte{0x28, 0x00, 0x04, 0x00, 'C', 'S'})
	if i < 0 {
		t.Fatal("no Photometric Interpretation")
	}
	n := int(binary.LittleEndian.Uint16(data[i+6:]))
	return strings.TrimSpace(string(data[i+8 : i+8+n]))
}
