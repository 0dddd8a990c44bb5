package jpegls

import (
	"strconv"
	"testing"

	"lightbox/backend/codec"
	"lightbox/backend/codec/internal/testframes"
)

// benchFrames returns the frames of the corpus files of one kind and
// transfer syntax key.
func benchFrames(b *testing.B, kind, ts string) ([][]byte, codec.Params) {
	var frames [][]byte
	var p codec.Params
	for _, r := range jpeglsRows(b) {
		if r["kind"] != kind || r["ts_key"] != ts {
			continue
		}
		n, _ := strconv.Atoi(r["frames"])
		fr, err := testframes.Frames(r["abspath"], n)
		if err != nil {
			b.Fatal(err)
		}
		frames = append(frames, fr...)
		p = testframes.Params(r)
	}
	if len(frames) == 0 {
		b.Fatalf("no %s %s frames", kind, ts)
	}
	return frames, p
}

// BenchmarkDecode decodes the corpus CT series (20 slices 128x128 16-bit)
// and other series; MB/s counts decoded output bytes.
func BenchmarkDecode(b *testing.B) {
	for _, bc := range []struct{ kind, ts string }{
		{"ct", "jpegls-lossless"}, {"ct", "jpegls-near"}, {"mr", "jpegls-lossless"}, {"us", "jpegls-lossless"},
	} {
		b.Run(bc.kind+"-"+bc.ts, func(b *testing.B) {
			frames, p := benchFrames(b, bc.kind, bc.ts)
			dst := make([]byte, p.FrameSize())
			var dec Decoder
			b.SetBytes(int64(len(frames) * len(dst)))
			b.ReportAllocs()
			for b.Loop() {
				for _, f := range frames {
					if err := dec.Decode(f, p, dst); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
