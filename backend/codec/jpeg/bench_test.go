package jpeg

import (
	"testing"

	"lightbox/backend/codec"
	"lightbox/backend/codec/internal/testframes"
)

// BenchmarkDecodeCT decodes the CT series of the corpus (16-bit for the
// lossless processes, 8 and 12-bit for the lossy ones) per transfer
// syntax; MB/s is of canonical output.
func BenchmarkDecodeCT(b *testing.B) {
	rows := testframes.Manifest(b)
	for _, ts := range []string{"jpeg-baseline", "jpeg-extended", "jpeg-lossless", "jpeg-lossless-sv1"} {
		var frames [][]byte
		var p codec.Params
		for _, r := range rows {
			if r["ts_key"] == ts && r["kind"] == "ct" {
				fr, err := testframes.Frames(r["abspath"], 1)
				if err != nil {
					b.Fatal(err)
				}
				frames = append(frames, fr...)
				p = testframes.Params(r)
			}
		}
		if len(frames) == 0 {
			b.Fatalf("no CT frames for %s", ts)
		}
		b.Run(ts, func(b *testing.B) {
			var d Decoder
			dst := make([]byte, p.FrameSize())
			b.SetBytes(int64(len(dst)))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if err := d.Decode(frames[i%len(frames)], p, dst); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
