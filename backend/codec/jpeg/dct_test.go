package jpeg

import (
	"math"
	"math/rand/v2"
	"testing"
)

// refIDCT is the inverse DCT straight from its definition (A.3.3), in
// float64, level-shifted, rounded and clamped.
func refIDCT(coef *[64]int32, q *[64]int32, precision int) [64]int32 {
	var out [64]int32
	cu := func(u int) float64 {
		if u == 0 {
			return 1 / math.Sqrt2
		}
		return 1
	}
	maxv := float64(int(1)<<precision - 1)
	for y := 0; y < 8; y++ {
		for x := 0; x < 8; x++ {
			var sum float64
			for v := 0; v < 8; v++ {
				for u := 0; u < 8; u++ {
					f := float64(coef[8*v+u] * q[8*v+u])
					sum += cu(u) * cu(v) * f * math.Cos(float64((2*x+1)*u)*math.Pi/16) * math.Cos(float64((2*y+1)*v)*math.Pi/16)
				}
			}
			val := math.Round(sum/4 + float64(int(1)<<(precision-1)))
			out[8*y+x] = int32(math.Max(0, math.Min(maxv, val)))
		}
	}
	return out
}

// TestIDCTAccuracy compares the AAN float IDCT with the definition on
// random blocks (sparse and dense, 8 and 12-bit): every sample within 1,
// and almost all exact.
func TestIDCTAccuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, precision := range []int{8, 12} {
		var s state
		for k := range s.quant[0] {
			s.quant[0][k] = int32(1 + rng.IntN(20))
		}
		s.setIDCTTable(0)
		var qNat [64]int32
		for k := 0; k < 64; k++ {
			qNat[zigzag[k]] = s.quant[0][k]
		}
		off, worst := 0, int32(0)
		const blocks = 2000
		limit := int32(1) << (precision - 4)
		for b := 0; b < blocks; b++ {
			var coef [64]int32
			n := 1 + rng.IntN(64)
			for i := 0; i < n; i++ {
				coef[rng.IntN(64)] = rng.Int32N(2*limit) - limit
			}
			want := refIDCT(&coef, &qNat, precision)
			var got [64]int32
			blk := coef
			idct(&blk, &s.qf[0], got[:], 8, precision)
			for i := range got {
				d := got[i] - want[i]
				if d != 0 {
					off++
					worst = max(worst, d, -d)
				}
			}
		}
		if worst > 1 || off > blocks*64/200 {
			t.Errorf("precision %d: %d of %d samples off, worst %d", precision, off, blocks*64, worst)
		}
		t.Logf("precision %d: %d of %d samples off by one", precision, off, blocks*64)
	}
}
