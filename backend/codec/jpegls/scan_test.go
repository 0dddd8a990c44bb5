package jpegls

import "testing"

// quantise is T.87 A.3.3 written as the standard gives it, the reference
// for the table that setup fills.
func quantise(d, t1, t2, t3, near int) int8 {
	switch {
	case d <= -t3:
		return -4
	case d <= -t2:
		return -3
	case d <= -t1:
		return -2
	case d < -near:
		return -1
	case d <= near:
		return 0
	case d < t1:
		return 1
	case d < t2:
		return 2
	case d < t3:
		return 3
	}
	return 4
}

func TestQuantTable(t *testing.T) {
	for _, tc := range []struct{ maxval, t1, t2, t3, near int }{
		{255, 3, 7, 21, 0},      // 8-bit defaults
		{4095, 18, 67, 276, 0},  // 12-bit defaults
		{65535, 18, 67, 276, 0}, // 16-bit defaults
		{4095, 24, 77, 290, 2},  // near-lossless
		{3, 1, 2, 3, 0},         // 2-bit: every interval one or two values
		{255, 5, 5, 5, 4},       // empty intervals
		{65535, 100, 30000, 65535, 0},
	} {
		var s coder
		qt := new(quantTable)
		var key qKey
		s.setup(16, tc.maxval, tc.near, tc.t1, tc.t2, tc.t3, 64, qt, &key)
		for d := -tc.maxval; d <= tc.maxval; d++ {
			if got, want := qt[d+qtOff], quantise(d, tc.t1, tc.t2, tc.t3, tc.near); got != want {
				t.Fatalf("%+v: gradient %d quantised to %d, want %d", tc, d, got, want)
			}
		}
		// the same parameters keep the table; others rebuild it
		qt[qtOff] = 9
		s.setup(16, tc.maxval, tc.near, tc.t1, tc.t2, tc.t3, 64, qt, &key)
		if qt[qtOff] != 9 {
			t.Errorf("%+v: table rebuilt for the same parameters", tc)
		}
		s.setup(16, tc.maxval, tc.near+1, tc.t1+1, tc.t2+1, tc.t3+1, 64, qt, &key)
		if qt[qtOff] != 0 {
			t.Errorf("%+v: table not rebuilt for new parameters", tc)
		}
	}
}

func TestGolombK(t *testing.T) {
	for n := 1; n < 300; n += 7 {
		for a := 0; a < 1<<20; a = a*3/2 + 1 {
			want := uint(0)
			for n<<want < a {
				want++
			}
			if got := golombK(n, a); got != want {
				t.Fatalf("golombK(%d, %d) = %d, want %d", n, a, got, want)
			}
		}
	}
}
