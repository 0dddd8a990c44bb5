package jpeg2k

import (
	"fmt"
	"math"
	"testing"
)

// TestHSynth53 checks the fused 5/3 row synthesis against interleaving
// followed by lift53, for every length up to 40 and both parities.
func TestHSynth53(t *testing.T) {
	seed := uint32(7)
	for n := 1; n <= 40; n++ {
		for cas := 0; cas < 2; cas++ {
			t.Run(fmt.Sprintf("n=%d/cas=%d", n, cas), func(t *testing.T) {
				nl := (n + 1 - cas) / 2
				src := make([]int32, n)
				for i := range src {
					seed = seed*1664525 + 1013904223
					src[i] = int32(seed>>16) - 1<<15
				}
				want := make([]int32, n)
				interleave(want, src[:nl], src[nl:], cas)
				lift53(want, cas)
				got := make([]int32, n)
				hsynth53(got, src[:nl], src[nl:], cas)
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("sample %d = %d, want %d", i, got[i], want[i])
					}
				}
			})
		}
	}
}

// TestStep97x2 checks the fused pair of 9/7 lifting steps against two
// sweeps of step97, bit for bit, for every length up to 40.
func TestStep97x2(t *testing.T) {
	seed := uint32(11)
	for n := 2; n <= 40; n++ {
		for s := 0; s < 2; s++ {
			x := make([]float32, n)
			for i := range x {
				seed = seed*1664525 + 1013904223
				x[i] = float32(int32(seed>>8)-1<<23) / 4096
			}
			want := append([]float32(nil), x...)
			step97(want, s, cDelta97)
			step97(want, 1-s, cGamma97)
			step97x2(x, s, cDelta97, cGamma97)
			for i := range want {
				if math.Float32bits(x[i]) != math.Float32bits(want[i]) {
					t.Fatalf("n=%d s=%d: sample %d = %g, want %g", n, s, i, x[i], want[i])
				}
			}
		}
	}
}
