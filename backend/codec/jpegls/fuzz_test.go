package jpegls

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"testing"

	"lightbox/backend/codec"
	"lightbox/backend/codec/internal/testframes"
)

// fuzzParams derives Params from the codestream's own SOF55, so that the
// fuzzer reaches the scan decoder, or returns ok=false for sizes the
// fuzzer should not spend time on.
func fuzzParams(src []byte) (codec.Params, bool) {
	i := bytes.Index(src, []byte{0xFF, mSOF55})
	if i < 0 || i+10 > len(src) {
		return codec.Params{}, false
	}
	prec := int(src[i+4])
	h, w := int(binary.BigEndian.Uint16(src[i+5:])), int(binary.BigEndian.Uint16(src[i+7:]))
	nf := int(src[i+9])
	if h == 0 || w == 0 || nf == 0 || nf > 4 || h*w*nf > 1<<18 {
		return codec.Params{}, false
	}
	ba := 8
	if prec > 8 {
		ba = 16
	}
	p := codec.Params{Rows: h, Columns: w, SamplesPerPixel: nf, BitsAllocated: ba, BitsStored: ba}
	if nf == 3 && len(src)%2 == 1 {
		p.Photometric = "YBR_FULL" // reach the colour conversion too
	}
	return p, true
}

const maxFuzzInput = 12 << 10

func FuzzJPEGLS(f *testing.F) {
	// Small frames only: the fuzzer minimises every new input, which takes
	// minutes on 100 KB frames.
	seen := map[string]bool{}
	for _, r := range jpeglsRows(f) {
		key := r["kind"] + r["ts_key"]
		if seen[key] {
			continue
		}
		n, _ := strconv.Atoi(r["frames"])
		fr, err := testframes.Frames(r["abspath"], n)
		if err != nil {
			f.Fatal(err)
		}
		if len(fr[0]) <= maxFuzzInput {
			seen[key] = true
			f.Add(fr[0])
		}
	}
	if len(seen) < 5 {
		f.Fatalf("only %d small corpus frames to seed the fuzzer", len(seen))
	}
	var dec Decoder
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > maxFuzzInput {
			return
		}
		p, ok := fuzzParams(src)
		if !ok {
			p = codec.Params{Rows: 16, Columns: 16, SamplesPerPixel: 1, BitsAllocated: 16, BitsStored: 16}
		}
		a := make([]byte, p.FrameSize())
		errA := dec.Decode(src, p, a)
		// decoding is deterministic, whatever the pooled state left behind
		b := make([]byte, p.FrameSize())
		errB := dec.Decode(src, p, b)
		if (errA == nil) != (errB == nil) || errA == nil && !bytes.Equal(a, b) {
			t.Fatalf("two decodings differ: %v / %v", errA, errB)
		}
	})
}
