package jpeg2k

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lightbox/backend/codec"
)

// stressImage makes a deterministic test picture: smooth gradients, a
// sharp-edged square, and pseudo-random texture, spanning the full range.
func stressImage(w, h, nc, bits int, signed bool, seed uint32) [][]int32 {
	out := make([][]int32, nc)
	maxv := int64(1)<<bits - 1
	s := seed*2654435761 + 1
	for c := range out {
		out[c] = make([]int32, w*h)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				s = s*1664525 + 1013904223
				v := int64(x*(c+1)*int(maxv)/(2*w)) + int64(y*int(maxv)/(3*h))
				if x > w/3 && x < 2*w/3 && y > h/4 && y < h/2 {
					v = maxv - v/3
				}
				v += int64(s>>20) % (maxv/16 + 2)
				if x == w-1 || y == 0 {
					v = maxv * int64(c%2)
				}
				v = min(max(v, 0), maxv)
				if signed {
					v -= 1 << (bits - 1)
				}
				out[c][y*w+x] = int32(v)
			}
		}
	}
	return out
}

type stressCase struct {
	name         string
	w, h, nc     int
	bits         int
	signed       bool
	args         []string
	reduce       int
	lossy        bool // lossy: compared with opj_decompress only, not with the original
	decodeErrors bool
}

func stressCases() []stressCase {
	var cs []stressCase
	add := func(c stressCase) { cs = append(cs, c) }
	// Progression orders, with precincts and layers.
	for _, p := range []string{"LRCP", "RLCP", "RPCL", "PCRL", "CPRL"} {
		add(stressCase{name: "prog-" + p, w: 97, h: 75, nc: 1, bits: 12,
			args: []string{"-p", p, "-c", "[32,32],[16,16]", "-n", "4", "-r", "30,10,1"}})
		add(stressCase{name: "prog-rgb-" + p, w: 64, h: 50, nc: 3, bits: 8,
			args: []string{"-p", p, "-c", "[16,16]", "-n", "3", "-r", "20,5,1", "-t", "40,32"}})
	}
	// Every code-block style, reversible and irreversible.
	for m := 1; m <= 63; m++ {
		args := []string{"-M", fmt.Sprint(m), "-n", "3", "-b", "16,16", "-r", "8,2,1"}
		lossy := m%2 == 0
		if lossy {
			args = []string{"-M", fmt.Sprint(m), "-n", "3", "-b", "16,16", "-I", "-r", "12,4"}
		}
		add(stressCase{name: fmt.Sprintf("mode-%d", m), w: 41, h: 37, nc: 1, bits: 10, args: args, lossy: lossy})
	}
	// Tiles, tile-parts, image and tile offsets.
	add(stressCase{name: "tiles", w: 100, h: 70, nc: 1, bits: 16, args: []string{"-t", "32,24", "-n", "3"}})
	add(stressCase{name: "tiles-tp-R", w: 100, h: 70, nc: 3, bits: 8, args: []string{"-t", "48,40", "-TP", "R", "-n", "3"}})
	add(stressCase{name: "tiles-tp-L", w: 80, h: 60, nc: 1, bits: 12, args: []string{"-t", "40,40", "-TP", "L", "-r", "10,3,1"}})
	add(stressCase{name: "tiles-tp-C", w: 80, h: 60, nc: 3, bits: 8, args: []string{"-t", "40,40", "-TP", "C", "-n", "2"}})
	add(stressCase{name: "offsets", w: 90, h: 66, nc: 1, bits: 8, args: []string{"-d", "5,3", "-T", "2,1", "-t", "37,29", "-n", "3"}})
	add(stressCase{name: "offsets-lossy", w: 90, h: 66, nc: 3, bits: 8, args: []string{"-d", "7,9", "-t", "33,41", "-n", "3", "-I", "-r", "15"}, lossy: true})
	// Precincts and resolution levels.
	add(stressCase{name: "precinct-tiny", w: 70, h: 45, nc: 1, bits: 8, args: []string{"-c", "[8,8],[4,4],[2,2]", "-b", "4,4", "-n", "4"}})
	for n := 1; n <= 6; n++ {
		add(stressCase{name: fmt.Sprintf("levels-%d", n), w: 128, h: 96, nc: 1, bits: 16, signed: n%2 == 0, args: []string{"-n", fmt.Sprint(n)}})
	}
	// Reduced-resolution decoding.
	for r := 1; r <= 3; r++ {
		add(stressCase{name: fmt.Sprintf("reduce-%d", r), w: 99, h: 61, nc: 1, bits: 12, args: []string{"-n", "5"}, reduce: r})
		add(stressCase{name: fmt.Sprintf("reduce-lossy-%d", r), w: 99, h: 61, nc: 3, bits: 8, args: []string{"-n", "5", "-I", "-r", "10"}, reduce: r, lossy: true})
	}
	// Lossy 9/7, bit depths, signedness, colour.
	for _, b := range []int{8, 12, 16} {
		for _, sg := range []bool{false, true} {
			add(stressCase{name: fmt.Sprintf("grey%d-s%v", b, sg), w: 77, h: 53, nc: 1, bits: b, signed: sg, args: []string{"-n", "4"}})
			add(stressCase{name: fmt.Sprintf("grey%d-s%v-97", b, sg), w: 77, h: 53, nc: 1, bits: b, signed: sg, args: []string{"-I", "-r", "12"}, lossy: true})
			add(stressCase{name: fmt.Sprintf("rgb%d-s%v", b, sg), w: 45, h: 33, nc: 3, bits: b, signed: sg, args: []string{"-n", "3"}})
			add(stressCase{name: fmt.Sprintf("rgb%d-s%v-97", b, sg), w: 45, h: 33, nc: 3, bits: b, signed: sg, args: []string{"-I", "-q", "35", "-n", "3"}, lossy: true})
		}
	}
	add(stressCase{name: "rgb-nomct", w: 45, h: 33, nc: 3, bits: 8, args: []string{"-mct", "0"}})
	add(stressCase{name: "sop-eph", w: 60, h: 40, nc: 3, bits: 8, args: []string{"-SOP", "-EPH", "-r", "10,1", "-c", "[16,16]", "-n", "3"}})
	add(stressCase{name: "plt-tlm", w: 60, h: 40, nc: 1, bits: 8, args: []string{"-PLT", "-TLM", "-t", "30,20", "-n", "3"}})
	add(stressCase{name: "roi", w: 60, h: 40, nc: 3, bits: 8, args: []string{"-ROI", "c=0,U=4", "-n", "3"}})
	add(stressCase{name: "roi-lossy", w: 60, h: 40, nc: 1, bits: 8, args: []string{"-ROI", "c=0,U=5", "-I", "-r", "6"}, lossy: true})
	add(stressCase{name: "poc", w: 64, h: 64, nc: 3, bits: 8, args: []string{"-n", "6", "-r", "8,2,1", "-POC", "T0=0,0,1,3,3,CPRL/T0=0,0,3,6,3,LRCP"}})
	add(stressCase{name: "jp2", w: 50, h: 30, nc: 3, bits: 8, args: []string{"-n", "2"}})
	return cs
}

// writeRawl writes planar little-endian samples for opj_compress.
func writeRawl(path string, img [][]int32, bits int) error {
	bps := 1
	if bits > 8 {
		bps = 2
	}
	var buf []byte
	for _, comp := range img {
		for _, v := range comp {
			if bps == 1 {
				buf = append(buf, byte(v))
			} else {
				buf = binary.LittleEndian.AppendUint16(buf, uint16(v))
			}
		}
	}
	return os.WriteFile(path, buf, 0o600)
}

func TestStressAgainstOpenJPEG(t *testing.T) {
	bin, err := exec.LookPath("opj_compress")
	if err != nil {
		t.Fatal("opj_compress not installed (libopenjp2-tools; make test installs it)")
	}
	var d Decoder
	dir := t.TempDir()
	var identical, total int
	for i, sc := range stressCases() {
		t.Run(sc.name, func(t *testing.T) {
			total++
			img := stressImage(sc.w, sc.h, sc.nc, sc.bits, sc.signed, uint32(i))
			in := filepath.Join(dir, fmt.Sprintf("in%d.rawl", i))
			ext := ".j2k"
			if strings.HasPrefix(sc.name, "jp2") {
				ext = ".jp2"
			}
			out := filepath.Join(dir, fmt.Sprintf("out%d%s", i, ext))
			if err := writeRawl(in, img, sc.bits); err != nil {
				t.Fatal(err)
			}
			su := "u"
			if sc.signed {
				su = "s"
			}
			args := append([]string{"-i", in, "-o", out, "-F", fmt.Sprintf("%d,%d,%d,%d,%s", sc.w, sc.h, sc.nc, sc.bits, su)}, sc.args...)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if msg, err := exec.CommandContext(ctx, bin, args...).CombinedOutput(); err != nil {
				t.Fatalf("opj_compress %v: %v\n%s", args, err, msg)
			}
			cs, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			iw, ih := sc.w, sc.h
			alloc := 8
			if sc.bits > 8 {
				alloc = 16
			}
			p := codec.Params{Rows: ih, Columns: iw, SamplesPerPixel: sc.nc, BitsAllocated: alloc, BitsStored: sc.bits, Signed: sc.signed}
			var got []int32
			var gw, gh int
			if sc.reduce > 0 {
				im, err := d.DecodeReduced(cs, p, sc.reduce)
				if err != nil {
					t.Fatal(err)
				}
				got = ourValues(im.Data, alloc/8, sc.signed)
				gw, gh = im.Width, im.Height
			} else {
				dst := make([]byte, p.FrameSize())
				if err := d.Decode(cs, p, dst); err != nil {
					t.Fatal(err)
				}
				got = ourValues(dst, alloc/8, sc.signed)
				gw, gh = iw, ih
				if !sc.lossy && !containsArg(sc.args, "-r", "-q", "-I") {
					// lossless: the original image comes back
					for c := 0; c < sc.nc; c++ {
						for k, v := range img[c] {
							if got[k*sc.nc+c] != v {
								t.Fatalf("sample %d comp %d = %d, original %d", k, c, got[k*sc.nc+c], v)
							}
						}
					}
				}
			}
			ref := opjDecode(t, cs, sc.reduce, gw, gh, sc.nc, sc.bits, sc.signed)
			// lossy ones too: the 9/7 path follows OpenJPEG's arithmetic
			if md, at := maxDiff(got, ref); md != 0 {
				t.Fatalf("differs from opj_decompress by up to %d (first at sample %d)", md, at)
			}
			identical++
		})
	}
	t.Logf("stress: %d codestreams, %d identical to opj_decompress", total, identical)
}

func containsArg(args []string, names ...string) bool {
	for _, a := range args {
		for _, n := range names {
			if a == n {
				return true
			}
		}
	}
	return false
}
