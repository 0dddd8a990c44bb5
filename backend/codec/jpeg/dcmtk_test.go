package jpeg

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"lightbox/backend/codec"
)

// tool returns the path of a reference tool or skips the test.
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not installed (make test installs it): %v", name, err)
	}
	return p
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(tool(t, name), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// nativePixels returns the value of an explicit-length Pixel Data element
// of an Explicit VR LE file.
func nativePixels(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, vr := range []string{"OW", "OB"} {
		sig := append([]byte{0xE0, 0x7F, 0x10, 0x00}, vr...)
		i := bytes.LastIndex(data, sig)
		if i < 0 || i+12 > len(data) {
			continue
		}
		n := int(binary.LittleEndian.Uint32(data[i+8:]))
		if n <= len(data)-i-12 {
			return data[i+12 : i+12+n]
		}
	}
	t.Fatalf("%s: no native pixel data", path)
	return nil
}

// compareDCMTK decodes a corpus file with dcmdjpeg (colour by pixel) and
// checks that every sample of ours is within a small tolerance of it.
func compareDCMTK(t *testing.T, path string, out [][]byte, p codec.Params) {
	ref := filepath.Join(t.TempDir(), "ref.dcm")
	run(t, "dcmdjpeg", "+px", "+te", path, ref)
	want := nativePixels(t, ref)
	got := bytes.Join(out, nil)
	if len(want) < len(got) {
		t.Fatalf("dcmdjpeg gave %d bytes, we %d", len(want), len(got))
	}
	// 8-bit: our float IDCT and DCMTK's integer one may round differently
	// by one; a chroma difference of one grows to two after the colour
	// conversion (x1.772 for B) and upsampling; 12-bit images carry more
	// rounding noise.
	tol := 2
	if p.SamplesPerPixel == 3 {
		tol = 3
	}
	if p.BitsStored > 8 {
		tol = 4
	}
	bad, maxd := 0, 0
	n := len(got)
	step := 1
	if p.BitsAllocated == 16 {
		step = 2
	}
	for i := 0; i+step <= n; i += step {
		a, b := int(got[i]), int(want[i])
		if step == 2 {
			a, b = int(binary.LittleEndian.Uint16(got[i:])), int(binary.LittleEndian.Uint16(want[i:]))
		}
		d := max(a-b, b-a)
		maxd = max(maxd, d)
		if d > tol {
			if bad < 5 {
				t.Errorf("sample %d: %d, dcmdjpeg %d", i/step, a, b)
			}
			bad++
		}
	}
	t.Logf("max difference to dcmdjpeg: %d (%d samples beyond %d)", maxd, bad, tol)
}

// imageSpec describes a generated test image.
type imageSpec struct {
	bits   int
	signed bool
	spp    int
}

// makeImages writes, in one pydicom run, an Explicit VR LE DICOM file per
// spec holding a deterministic rows x cols test image with ramps, noise,
// edges, the extremes of the range and neighbours 2^(bits-1) apart.
func makeImages(t *testing.T, dir string, rows, cols int, specs []imageSpec) map[imageSpec]string {
	t.Helper()
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Fatal("no /usr/bin/python3 (Debian python3 with pydicom; make test installs it)")
	}
	paths := map[imageSpec]string{}
	var list strings.Builder
	for _, sp := range specs {
		if _, ok := paths[sp]; ok {
			continue
		}
		path := filepath.Join(dir, fmt.Sprintf("src_%d_%v_%d.dcm", sp.bits, sp.signed, sp.spp))
		paths[sp] = path
		signed := 0
		if sp.signed {
			signed = 1
		}
		fmt.Fprintf(&list, "(%d, %d, %d, %q),", sp.bits, signed, sp.spp, path)
	}
	script := fmt.Sprintf(`
import numpy as np, pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
rows, cols = %d, %d
for bits, signed, spp, path in [%s]:
    rng = np.random.default_rng(42)
    hi = (1 << bits) - 1
    y, x = np.mgrid[0:rows, 0:cols]
    img = (x * 977 + y * 131) %% (hi + 1)
    img[rows//4:rows//2, :] = rng.integers(0, hi + 1, size=(rows//2 - rows//4, cols))
    img[rows//2:rows//2+4, :] = hi
    img[rows//2+4:rows//2+8, ::2] = 0
    img[rows//2+4:rows//2+8, 1::2] = hi
    img[-4:, :] = (x[-4:, :] * 4099) %% (hi + 1)
    img[-6, :] = (x[-6, :] %% 2) * ((hi + 1) // 2)
    img[-7, :] = ((x[-7, :] // 3) %% 2) * hi
    img = img.astype(np.int64)
    if spp == 3:
        img = np.stack([img, hi - img, (img * 7) %% (hi + 1)], axis=-1)
    if signed:
        img = img - (1 << (bits - 1))
    dt = np.int16 if signed else np.uint16
    if bits <= 8:
        dt = np.int8 if signed else np.uint8
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.is_little_endian = True
    ds.is_implicit_VR = False
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "OT"
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = spp
    ds.PhotometricInterpretation = "RGB" if spp == 3 else "MONOCHROME2"
    if spp == 3:
        ds.PlanarConfiguration = 0
    ds.BitsAllocated = 8 if bits <= 8 else 16
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = signed
    ds.PixelData = img.astype(dt).tobytes()
    ds.save_as(path, write_like_original=False)
`, rows, cols, list.String())
	if out, err := exec.Command(py, "-c", script).CombinedOutput(); err != nil {
		t.Fatalf("pydicom: %v\n%s", err, out)
	}
	return paths
}

func mkdir(dir string) error { return os.MkdirAll(dir, 0o755) }
