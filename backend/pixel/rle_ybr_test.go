package pixel

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"testing"

	"lightbox/backend/testcorpus"
)

// TestRLEYBRFullConvertedOnce compresses the native YBR_FULL US file with
// DCMTK's RLE encoder and checks that its frames decode to the same RGB
// samples as the native file: converted once, by the codec, not twice.
func TestRLEYBRFullConvertedOnce(t *testing.T) {
	src := filepath.Join(testcorpus.Dir(t), "images/us/us_ele_ybrfull.dcm")
	dst := filepath.Join(t.TempDir(), "us_rle_ybrfull.dcm")
	if out, err := exec.Command("dcmcrle", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("dcmcrle: %v\n%s", err, out)
	}
	want := canonical(t, src)
	got := canonical(t, dst)
	if !bytes.Equal(got, want) {
		t.Fatalf("RLE YBR_FULL decodes differently from native YBR_FULL (%d vs %d bytes)", len(got), len(want))
	}
}

func canonical(t *testing.T, path string) []byte {
	t.Helper()
	img, err := Open(path, WithCodecs(DefaultCodecs()))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if img.Info.Photometric != "YBR_FULL" {
		t.Fatalf("%s: photometric %s", path, img.Info.Photometric)
	}
	var b bytes.Buffer
	if err := img.Canonical(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
