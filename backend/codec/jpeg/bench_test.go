package jpeg

import (
	"strconv"
	"strings"
	"testing"

	"lightbox/backend/codec"
	"lightbox/backend/codec/internal/testframes"
)

// BenchmarkDecodeCT decodes the CT series of the corpus (16-bit for the
// lossless processes, 8 and 12-bit for the lossy ones) per transfer
// syntax, and the colour ultrasound cine (YBR_FULL_422 lossy, RGB
// lossless); MB/s is of canonical output.
func BenchmarkDecodeCT(b *testing.B) {
	rows := testframes.Manifest(b)
	for _, ts := range []string{"jpeg-baseline", "jpeg-extended", "jpeg-lossless", "jpeg-lossless-sv1", "us/jpeg-baseline", "us/jpeg-lossless-sv1"} {
		var frames [][]byte
		var p codec.Params
		kind := "ct"
		if k, t, ok := strings.Cut(ts, "/"); ok {
			kind, ts = k, t
		}
		for _, r := range rows {
			if r["ts_key"] == ts && r["kind"] == kind && !strings.Contains(r["path"], "frag") {
				nf, _ := strconv.Atoi(r["frames"])
				fr, err := testframes.Frames(r["abspath"], max(nf, 1))
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
		b.Run(kind+"/"+ts, func(b *testing.B) {
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
