// Package jpeg2k is a pure-Go decoder for JPEG 2000 Part 1 codestreams
// (ITU-T T.800), as DICOM uses them in the transfer syntaxes
// 1.2.840.10008.1.2.4.90 (lossless only) and .4.91.
//
// It implements codec.Decoder: Decode is handed the bytes of one frame (a raw
// codestream, or a JP2 file whose jp2c box holds one) and fills a
// caller-owned buffer with the canonical samples of the codec package:
// row-major, components interleaved, each sample a little-endian integer of
// BitsAllocated width. A codestream whose COD marker asks for a component
// transform (RCT or ICT) is returned as R,G,B. Values are clamped to the
// range of the codestream's precision (signed or unsigned), never masked.
//
// Supported: SIZ, COD/COC, QCD/QCC, RGN, POC, PPM/PPT, TLM/PLM/PLT, CRG and
// COM markers; tiles and tile-parts; all five progression orders and
// progression changes; precincts; SOP and EPH markers; every code-block
// style (bypass, reset, termall, vertically causal, predictable termination,
// segmentation symbols); the 5/3 and 9/7 wavelets; RCT and ICT; ROI
// max-shift; up to 16 bits per sample, signed or unsigned; decoding at a
// reduced resolution (DecodeReduced). Components must not be subsampled
// (XRsiz = YRsiz = 1), as in every DICOM image.
//
// The irreversible path follows OpenJPEG's single-precision arithmetic
// (same lifting order and constants), so lossy frames decode to the same
// values as opj_decompress.
//
// Implementation notes. Tier-1 (t1.go, and t1_passes.go, which gen_t1.go
// writes: run go generate after changing the generator) keeps one uint32
// state word per stripe column (the significance of the 6x3 window around
// it, signs, visited and refined bits) beside the four magnitudes, in a
// grid with a border so that neighbour updates need no tests. The coding
// passes keep the MQ registers in locals and decide without branches on
// the decision; the inverse wavelets work on rows from their halves and on
// columns in strips of 64.
//
// Concurrency and lifetimes: a Decoder is safe for concurrent use by several
// goroutines. Each call decodes its code-blocks and wavelet rows on a bounded
// pool of goroutines (Workers, default GOMAXPROCS) that ends before the call
// returns. The only state kept between calls is a pool of scratch buffers.
// src is only read, and is not retained after the call.
//
// Errors wrap the sentinels of the codec package: codec.ErrCorrupt for a
// malformed or truncated codestream, codec.ErrTooLarge when a header declares
// sizes beyond codec.MaxPixels (checked before anything is allocated),
// codec.ErrUnsupported for valid features outside the list above, and
// codec.ErrMismatch when the codestream disagrees with codec.Params.
package jpeg2k

import (
	"fmt"
	"runtime"
	"sync"

	"lightbox/backend/codec"
)

// Decoder decodes JPEG 2000 frames. The zero value is ready to use.
type Decoder struct {
	// Workers bounds the goroutines used per call; 0 means GOMAXPROCS.
	Workers int

	scratch sync.Pool // *t1Scratch
	ints    sync.Pool // *[]int32, component buffers
	floats  sync.Pool // *[]float32

	// packetTrace, for tests, sees each packet's header and body byte
	// ranges within its tile's bit stream (headers in the stream only).
	packetTrace func(tile, hs, he, bs, be int)
}

var _ codec.Decoder = (*Decoder)(nil)

// Image is a decoded frame at some resolution.
type Image struct {
	Width, Height int
	Components    int
	// Data holds the canonical samples (row-major, components interleaved,
	// little-endian of the byte width asked for).
	Data []byte
}

// Info describes a codestream's main header.
type Info struct {
	Width, Height int
	Components    int
	Precision     int  // of component 0
	Signed        bool // of component 0
	Levels        int  // decomposition levels of the first tile's component 0 (main COD)
	Layers        int
	Reversible    bool // 5/3 wavelet
	MCT           bool // a component transform applies
	TilesX        int
	TilesY        int
}

func (d *Decoder) workers() int {
	if d.Workers > 0 {
		return d.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// Decode implements codec.Decoder. dst must hold p.FrameSize() bytes.
func (d *Decoder) Decode(src []byte, p codec.Params, dst []byte) error {
	if len(dst) != p.FrameSize() {
		return fmt.Errorf("jpeg2k: %w: dst has %d bytes, want %d", codec.ErrMismatch, len(dst), p.FrameSize())
	}
	if _, err := d.decode(src, p, 0, dst); err != nil {
		return err
	}
	// A stream without a multiple component transform holds the samples
	// as the data set labels them: YBR_FULL ones are converted here, as
	// every codec returns colour as RGB (with the transform, the stream's
	// own inverse already gave RGB).
	if (p.Photometric == "YBR_FULL" || p.Photometric == "YBR_FULL_422") && p.SamplesPerPixel == 3 {
		if info, err := ReadInfo(src); err == nil && !info.MCT && info.Components == 3 {
			codec.YBRFullToRGB(dst, (p.BitsAllocated+7)/8, p.BitsStored)
		}
	}
	return nil
}

// DecodeReduced decodes the frame with the `discard` highest resolution
// levels left out (0 = full size; each level halves width and height,
// rounding up). It is meant for thumbnails and a fast first image: the
// packets of the discarded levels are skipped without entropy decoding.
// The returned Image's Data is newly allocated, in the byte width of
// p.BitsAllocated.
func (d *Decoder) DecodeReduced(src []byte, p codec.Params, discard int) (*Image, error) {
	if discard < 0 {
		return nil, fmt.Errorf("jpeg2k: %w: negative reduction", codec.ErrUnsupported)
	}
	return d.decode(src, p, discard, nil)
}

// ReadInfo parses the main header of a codestream (or JP2 file) and
// reports its geometry without decoding anything.
func ReadInfo(src []byte) (Info, error) {
	cs, err := findCodestream(src)
	if err != nil {
		return Info{}, err
	}
	h, _, err := parseMainHeader(cs)
	if err != nil {
		return Info{}, err
	}
	in := Info{Width: int(h.xsiz - h.xosiz), Height: int(h.ysiz - h.yosiz), Components: len(h.comps),
		Precision: h.comps[0].prec, Signed: h.comps[0].signed, TilesX: h.ntx, TilesY: h.nty}
	if h.cod != nil {
		in.Levels = h.cod.sp.levels
		in.Layers = h.cod.layers
		in.Reversible = h.cod.sp.reversible
		in.MCT = h.cod.mct
	}
	return in, nil
}

func corrupt(format string, a ...any) error {
	return fmt.Errorf("jpeg2k: %w: "+format, append([]any{codec.ErrCorrupt}, a...)...)
}

func unsupported(format string, a ...any) error {
	return fmt.Errorf("jpeg2k: %w: "+format, append([]any{codec.ErrUnsupported}, a...)...)
}

func mismatch(format string, a ...any) error {
	return fmt.Errorf("jpeg2k: %w: "+format, append([]any{codec.ErrMismatch}, a...)...)
}

func tooLarge(format string, a ...any) error {
	return fmt.Errorf("jpeg2k: %w: "+format, append([]any{codec.ErrTooLarge}, a...)...)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// ceilDivPow2 is ceil(a / 2^s) for a >= 0.
func ceilDivPow2(a, s int) int { return (a + (1 << s) - 1) >> s }
