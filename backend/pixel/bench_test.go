package pixel

import (
	"context"
	"path/filepath"
	"testing"

	"lightbox/backend/testcorpus"
)

// BenchmarkDecode measures frame decoding through the frame layer (read,
// decode, normalise) per transfer syntax, over the 20 CT slices (128x128,
// 16-bit; 8-bit for JPEG baseline) of the corpus. Bytes are output bytes.
func BenchmarkDecode(b *testing.B) {
	dir := testcorpus.Dir(b)
	keys := []string{"ele", "ebe", "deflate", "rle", "jpeg-lossless", "jpeg-lossless-sv1", "jpeg-baseline",
		"jpeg-extended", "jpegls-lossless", "jpegls-near", "j2k-lossless", "j2k"}
	ctx := context.Background()
	for _, key := range keys {
		paths, _ := filepath.Glob(filepath.Join(dir, "images", "ct", key, "ct_"+key+"_*.dcm"))
		if len(paths) == 0 {
			continue
		}
		b.Run(key, func(b *testing.B) {
			var imgs []*Image
			for _, p := range paths {
				img, err := Open(p)
				if err != nil {
					b.Skipf("%s: %v", key, err)
				}
				defer img.Close()
				imgs = append(imgs, img)
			}
			b.SetBytes(int64(imgs[0].Info.FrameSize()))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := imgs[i%len(imgs)].Frame(ctx, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
