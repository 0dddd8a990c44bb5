package pixel

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
)

// sampleAt returns canonical sample i (not pixel i) of a frame as a number.
func sampleAt(b []byte, i int, in Info) int64 {
	switch in.BytesPerSample() {
	case 1:
		if in.Signed() {
			return int64(int8(b[i]))
		}
		return int64(b[i])
	case 2:
		v := binary.LittleEndian.Uint16(b[2*i:])
		if in.Signed() {
			return int64(int16(v))
		}
		return int64(v)
	default:
		v := binary.LittleEndian.Uint32(b[4*i:])
		if in.Signed() {
			return int64(int32(v))
		}
		return int64(v)
	}
}

// Samples decodes a canonical frame into one int64 per sample.
func Samples(b []byte, in Info) []int64 {
	n := len(b) / in.BytesPerSample()
	out := make([]int64, n)
	signed := in.Signed()
	switch in.BytesPerSample() {
	case 1:
		for i := range out {
			if signed {
				out[i] = int64(int8(b[i]))
			} else {
				out[i] = int64(b[i])
			}
		}
	case 2:
		for i := range out {
			v := binary.LittleEndian.Uint16(b[2*i:])
			if signed {
				out[i] = int64(int16(v))
			} else {
				out[i] = int64(v)
			}
		}
	default:
		for i := range out {
			out[i] = sampleAt(b, i, in)
		}
	}
	return out
}

// SampleRange returns the smallest and largest sample of a canonical frame.
func SampleRange(b []byte, in Info) (lo, hi int64) {
	n := len(b) / in.BytesPerSample()
	if n == 0 {
		return 0, 0
	}
	lo, hi = math.MaxInt64, math.MinInt64
	for i := 0; i < n; i++ {
		v := sampleAt(b, i, in)
		lo, hi = min(lo, v), max(hi, v)
	}
	return lo, hi
}

// Sample is the value of one pixel as `lightbox probe` prints it.
type Sample struct {
	// Color is set for RGB/YBR images: RGB holds the samples after the
	// conversion to RGB. Otherwise Stored is the stored value (the palette
	// index for PALETTE COLOR) and Value the modality value (after the
	// rescale or Modality LUT; equal to Stored for PALETTE COLOR).
	Color  bool
	RGB    [3]int64
	Stored int64
	Value  float64
}

// String formats a sample as the corpus manifest does: "R/G/B" for colour,
// the modality value otherwise.
func (s Sample) String() string {
	if s.Color {
		return fmt.Sprintf("%d/%d/%d", s.RGB[0], s.RGB[1], s.RGB[2])
	}
	return strconv.FormatFloat(s.Value, 'f', -1, 64)
}

// Probe returns the pixel at column x, row y of frame n.
func (img *Image) Probe(ctx context.Context, x, y, n int) (Sample, error) {
	in := img.Info
	if x < 0 || y < 0 || x >= in.Columns || y >= in.Rows {
		return Sample{}, fmt.Errorf("%w: (%d,%d) in %dx%d", ErrOutOfBounds, x, y, in.Columns, in.Rows)
	}
	b, err := img.Frame(ctx, n)
	if err != nil {
		return Sample{}, err
	}
	p := y*in.Columns + x
	if in.SamplesPerPixel == 3 {
		return Sample{Color: true, RGB: [3]int64{sampleAt(b, 3*p, in), sampleAt(b, 3*p+1, in), sampleAt(b, 3*p+2, in)}}, nil
	}
	v := sampleAt(b, p, in)
	s := Sample{Stored: v, Value: float64(v)}
	if in.Monochrome() {
		s.Value = img.FrameModality(n).Apply(v)
	}
	return s, nil
}
