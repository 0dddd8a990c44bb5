package jpeg2k

import (
	"fmt"
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
