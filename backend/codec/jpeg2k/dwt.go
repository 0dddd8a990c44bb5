package jpeg2k

import "sync"

// Inverse discrete wavelet transforms (T.800 Annex F) by lifting, on a
// tile-component buffer in which each resolution's sub-bands sit in the
// usual quadrant layout (low part first, then high part, in both axes).
// Horizontal filtering comes first, then vertical, as in 2D_SR.

// 9/7 lifting constants as OpenJPEG uses them in single precision; the
// high-pass scaling 2/K is paired with sub-band gains of 0 in the step sizes.
const (
	k97      float32 = 1.230174105
	twoInvK  float32 = 1.625732422
	cDelta97 float32 = -0.443506852
	cGamma97 float32 = -0.882911075
	cBeta97  float32 = 0.052980118
	cAlpha97 float32 = 1.586134342
)

// parallel runs fn over [0,n) split into at most workers ranges.
func parallel(n, workers int, fn func(lo, hi int)) {
	if workers <= 1 || n < 32 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	step := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += step {
		hi := min(lo+step, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}

// lift53 reconstructs one interleaved line x (low samples at even positions
// when cas is 0, at odd ones when cas is 1).
func lift53(x []int32, cas int) {
	n := len(x)
	if n == 1 {
		if cas == 1 {
			x[0] /= 2
		}
		return
	}
	if n == 0 {
		return
	}
	// lows: X[i] -= (X[i-1] + X[i+1] + 2) >> 2, mirrored at the ends
	i := cas
	if i == 0 {
		x[0] -= (x[1] + x[1] + 2) >> 2
		i = 2
	}
	for ; i+1 < n; i += 2 {
		y := x[i-1 : i+2 : i+2]
		y[1] -= (y[0] + y[2] + 2) >> 2
	}
	if i < n {
		x[i] -= (x[i-1] + x[i-1] + 2) >> 2
	}
	// highs: X[i] += (X[i-1] + X[i+1]) >> 1
	i = 1 - cas
	if i == 0 {
		x[0] += (x[1] + x[1]) >> 1
		i = 2
	}
	for ; i+1 < n; i += 2 {
		y := x[i-1 : i+2 : i+2]
		y[1] += (y[0] + y[2]) >> 1
	}
	if i < n {
		x[i] += (x[i-1] + x[i-1]) >> 1
	}
}

// hsynth53 is interleave followed by lift53, in two passes that read the
// low and high halves where they are: out receives the reconstructed line
// of len(low)+len(high) samples.
func hsynth53(out, low, high []int32, cas int) {
	n := len(out)
	if n <= 1 || len(low) == 0 || len(high) == 0 {
		interleave(out, low, high, cas)
		lift53(out, cas)
		return
	}
	nl, nh := len(low), len(high)
	if cas == 0 {
		// lows at even positions: X[2i] = L[i] - (H[i-1] + H[i] + 2) >> 2,
		// H[-1] mirrored to H[0] and H[nh] to H[nh-1]
		out[0] = low[0] - (high[0]+high[0]+2)>>2
		i := 1
		for ; i < nl && i < nh; i++ {
			out[2*i] = low[i] - (high[i-1]+high[i]+2)>>2
		}
		if i < nl {
			out[2*i] = low[i] - (high[i-1]+high[i-1]+2)>>2
		}
		// highs at odd positions: X[2i+1] = H[i] + (X[2i] + X[2i+2]) >> 1
		for i = 0; 2*i+2 < n; i++ {
			out[2*i+1] = high[i] + (out[2*i]+out[2*i+2])>>1
		}
		if i < nh {
			out[2*i+1] = high[i] + (out[2*i]+out[2*i])>>1
		}
		return
	}
	// lows at odd positions: X[2i+1] = L[i] - (H[i] + H[i+1] + 2) >> 2
	i := 0
	for ; i+1 < nh && i < nl; i++ {
		out[2*i+1] = low[i] - (high[i]+high[i+1]+2)>>2
	}
	if i < nl {
		out[2*i+1] = low[i] - (high[i]+high[i]+2)>>2
	}
	// highs at even positions: X[2i] = H[i] + (X[2i-1] + X[2i+1]) >> 1
	out[0] = high[0] + (out[1]+out[1])>>1
	for i = 1; 2*i+1 < n; i++ {
		out[2*i] = high[i] + (out[2*i-1]+out[2*i+1])>>1
	}
	if i < nh {
		out[2*i] = high[i] + (out[2*i-1]+out[2*i-1])>>1
	}
}

// lift97 runs the four lifting steps of the 9/7 synthesis on an interleaved
// line whose samples are already scaled.
func lift97(x []float32, cas int) {
	n := len(x)
	if n <= 1 {
		return
	}
	step97x2(x, cas, cDelta97, cGamma97)
	step97x2(x, cas, cBeta97, cAlpha97)
}

// step97x2 is step97(x, s, c1) followed by step97(x, 1-s, c2), in one
// sweep: the second step at q runs as soon as the first has updated q+1.
// Each sample gets the same operations, in the same order, as in two
// sweeps. len(x) >= 2.
func step97x2(x []float32, s int, c1, c2 float32) {
	n := len(x)
	if s == 0 {
		x[0] = x[0] + float32((x[1]+x[1])*c1)
	}
	// one pair of updates: the first step at q+1, the second at q
	pair := func(q int) {
		if p := q + 1; p < n {
			r := p + 1
			if r >= n {
				r = n - 2
			}
			x[p] = x[p] + float32((x[p-1]+x[r])*c1)
		}
		l, r := q-1, q+1
		if q == 0 {
			l = 1
		}
		if r >= n {
			r = n - 2
		}
		x[q] = x[q] + float32((x[l]+x[r])*c2)
	}
	q := 1 - s
	if q == 0 {
		pair(0)
		q = 2
	}
	for ; q+2 < n; q += 2 {
		y := x[q-1 : q+3 : q+3]
		y[2] = y[2] + float32((y[1]+y[3])*c1)
		y[1] = y[1] + float32((y[0]+y[2])*c2)
	}
	for ; q < n; q += 2 {
		pair(q)
	}
}

// step97 is one lifting step of the 9/7 synthesis on the samples of x at
// start, start+2..., mirrored at the ends. The float32 conversion keeps
// the product rounded on its own, as OpenJPEG computes it.
func step97(x []float32, start int, c float32) {
	n := len(x)
	i := start
	if i == 0 {
		x[0] = x[0] + float32((x[1]+x[1])*c)
		i = 2
	}
	for ; i+1 < n; i += 2 {
		y := x[i-1 : i+2 : i+2]
		y[1] = y[1] + float32((y[0]+y[2])*c)
	}
	if i < n {
		x[i] = x[i] + float32((x[i-1]+x[i-1])*c)
	}
}

// wavelet is one synthesis filter for idwt: hrow reconstructs a row from
// its low and high halves, vlift columns [lo, hi) of interleaved rows. For
// the 9/7 filter the first lifting step of the columns, scaling the low
// samples by kl and the high ones by kh, is done by idwt while it moves
// the rows into place (the same single product per sample, so the result
// is unchanged), and vlift skips it.
type wavelet[T int32 | float32] struct {
	hrow   func(out, low, high []T, cas int)
	vlift  func(buf []T, stride, n, cas, lo, hi int)
	scaled bool
	kl, kh T
}

var (
	wavelet53 = wavelet[int32]{hrow: hsynth53, vlift: vlift53}
	wavelet97 = wavelet[float32]{hrow: hsynth97, vlift: vlift97, scaled: true, kl: k97, kh: twoInvK}
)

// hsynth97 reconstructs a 9/7 row: the samples are scaled on their way to
// their interleaved positions, then lifted (a row of one sample is left as
// it is).
func hsynth97(out, low, high []float32, cas int) {
	if len(out) <= 1 {
		interleave(out, low, high, cas)
		return
	}
	interleaveScaled(out, low, high, cas, k97, twoInvK)
	lift97(out, cas)
}

// colBlock is the width of the column strips the vertical synthesis works
// on, all lifting steps on one strip before the next, so that a strip of a
// large tile stays in cache.
const colBlock = 64

// idwt runs the synthesis from resolution 1 up to top.
func idwt[T int32 | float32](buf []T, stride int, res []resolution, top, workers int, tmp *[]T, wv wavelet[T]) {
	for r := 1; r <= top; r++ {
		rw, rh := res[r].x1-res[r].x0, res[r].y1-res[r].y0
		if rw == 0 || rh == 0 {
			continue
		}
		snx, sny := res[r-1].x1-res[r-1].x0, res[r-1].y1-res[r-1].y0
		cx, cy := res[r].x0&1, res[r].y0&1
		need := rw * rh
		if cap(*tmp) < need {
			*tmp = make([]T, need)
		}
		t := (*tmp)[:need]
		// horizontal: each row of buf is reconstructed into t
		parallel(rh, workers, func(lo, hi int) {
			for y := lo; y < hi; y++ {
				row := buf[y*stride : y*stride+rw]
				wv.hrow(t[y*rw:y*rw+rw], row[:snx], row[snx:], cx)
			}
		})
		// vertical: rows of t go to their interleaved positions in buf,
		// a strip of columns at a time
		vscale := wv.scaled && rh > 1
		parallel(rw, workers, func(lo, hi int) {
			for b0 := lo; b0 < hi; b0 += colBlock {
				b1 := min(b0+colBlock, hi)
				for y := 0; y < rh; y++ {
					dy := rowPos(y, sny, cy)
					dst, src := buf[dy*stride+b0:dy*stride+b1], t[y*rw+b0:y*rw+b1]
					if !vscale {
						copy(dst, src)
						continue
					}
					k := wv.kh
					if dy&1 == cy {
						k = wv.kl
					}
					for i, v := range src[:len(dst)] {
						dst[i] = v * k
					}
				}
				wv.vlift(buf, stride, rh, cy, b0, b1)
			}
		})
	}
}

// rowPos maps the y-th row of the quadrant layout (sn low rows first) to
// its interleaved position.
func rowPos(y, sn, cas int) int {
	if y < sn {
		return 2*y + cas
	}
	return 2*(y-sn) + 1 - cas
}

func interleaveScaled[T int32 | float32](out, low, high []T, cas int, kl, kh T) {
	for i, v := range low {
		out[2*i+cas] = v * kl
	}
	for i, v := range high {
		out[2*i+1-cas] = v * kh
	}
}

func interleave[T int32 | float32](out, low, high []T, cas int) {
	for i, v := range low {
		out[2*i+cas] = v
	}
	for i, v := range high {
		out[2*i+1-cas] = v
	}
}

// vlift53 lifts columns [lo,hi) of the first n rows of buf, already in
// interleaved order.
func vlift53(buf []int32, stride, n, cas, lo, hi int) {
	if n == 1 {
		if cas == 1 {
			row := buf[lo:hi]
			for i := range row {
				row[i] /= 2
			}
		}
		return
	}
	for i := cas; i < n; i += 2 {
		l, r := vnb(i, n)
		x := buf[i*stride+lo : i*stride+hi]
		a := buf[l*stride+lo : l*stride+hi][:len(x)]
		b := buf[r*stride+lo : r*stride+hi][:len(x)]
		for k := range x {
			x[k] -= (a[k] + b[k] + 2) >> 2
		}
	}
	for i := 1 - cas; i < n; i += 2 {
		l, r := vnb(i, n)
		x := buf[i*stride+lo : i*stride+hi]
		a := buf[l*stride+lo : l*stride+hi][:len(x)]
		b := buf[r*stride+lo : r*stride+hi][:len(x)]
		for k := range x {
			x[k] += (a[k] + b[k]) >> 1
		}
	}
}

func vnb(i, n int) (int, int) {
	l, r := 1, n-2
	if i > 0 {
		l = i - 1
	}
	if i+1 < n {
		r = i + 1
	}
	return l, r
}

func vlift97(buf []float32, stride, n, cas, lo, hi int) {
	if n <= 1 {
		return
	}
	// (the scaling step is done by idwt)
	step := func(start int, c float32) {
		for i := start; i < n; i += 2 {
			l, r := vnb(i, n)
			x := buf[i*stride+lo : i*stride+hi]
			a := buf[l*stride+lo : l*stride+hi][:len(x)]
			b := buf[r*stride+lo : r*stride+hi][:len(x)]
			for k := range x {
				x[k] = x[k] + float32((a[k]+b[k])*c)
			}
		}
	}
	step(cas, cDelta97)
	step(1-cas, cGamma97)
	step(cas, cBeta97)
	step(1-cas, cAlpha97)
}
