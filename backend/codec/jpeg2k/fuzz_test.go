package jpeg2k

import (
	"errors"
	"testing"

	"lightbox/backend/codec"
)

// FuzzJ2K decodes arbitrary bytes with Params taken from the codestream's
// own header (so that fuzzing gets past the size checks): it must return
// an error wrapping a codec sentinel, or succeed, and never panic or hang.
func FuzzJ2K(f *testing.F) {
	seen := map[string]bool{}
	for _, cf := range corpusJ2K(f) {
		key := cf.row["kind"] + cf.row["ts_key"]
		p := cf.params
		if seen[key] || p.Rows*p.Columns*p.SamplesPerPixel > 1<<16 {
			continue
		}
		seen[key] = true
		f.Add(cf.frames[0])
	}
	var d Decoder
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := ReadInfo(data)
		if err != nil {
			if !isSentinel(err) {
				t.Fatalf("ReadInfo: error without sentinel: %v", err)
			}
			return
		}
		if info.Width*info.Height*info.Components > 1<<16 {
			return
		}
		bits := 8
		if info.Precision > 8 {
			bits = 16
		}
		p := codec.Params{Rows: info.Height, Columns: info.Width, SamplesPerPixel: info.Components,
			BitsAllocated: bits, BitsStored: min(info.Precision, bits), Signed: info.Signed}
		if err := d.Decode(data, p, make([]byte, p.FrameSize())); err != nil && !isSentinel(err) {
			t.Fatalf("Decode: error without sentinel: %v", err)
		}
		if _, err := d.DecodeReduced(data, p, 1); err != nil && !isSentinel(err) {
			t.Fatalf("DecodeReduced: error without sentinel: %v", err)
		}
	})
}

func isSentinel(err error) bool {
	for _, s := range []error{codec.ErrCorrupt, codec.ErrUnsupported, codec.ErrMismatch, codec.ErrTooLarge} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}
