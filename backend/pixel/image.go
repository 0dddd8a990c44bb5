// Package pixel is Lightbox's frame layer: it turns the Pixel Data of a
// parsed DICOM file (package dcm) into frames of canonical samples, and
// exposes the attributes needed to display them (the modality transform and
// the palette).
//
// Canonical samples are exactly what the test corpus hashes as pixel_sha256:
// frame by frame, row-major, samples of a pixel interleaved (R,G,B) whatever
// the PlanarConfiguration, each sample a little-endian integer of
// BitsAllocated width (BitsAllocated 1 is unpacked to one byte per pixel),
// masked to BitsStored and sign-extended when PixelRepresentation is 1,
// YBR_FULL / YBR_FULL_422 converted to RGB, PALETTE COLOR as stored indices,
// MONOCHROME1 not inverted, no rescale and no window.
//
// Native pixel data is read frame by frame from File.Source with ReadAt;
// encapsulated pixel data is mapped onto frames once (all fragments when
// there is one frame, else the Basic Offset Table, then the Extended Offset
// Table, then one fragment per frame when the counts match, then codec
// markers) and each frame's fragments are read and handed to the codec found
// in the codec table for the transfer syntax. A transfer syntax without a
// codec in the table gives an error wrapping ErrUnsupportedTS.
//
// Lifetimes and concurrency: an Image made by FromFile borrows the
// *dcm.File, which must stay open while the Image is used; the caller closes
// the file. An Image made by Open owns its file: call Image.Close. An Image
// is immutable after construction and safe for concurrent use (frames are
// read with ReadAt and decoded into fresh buffers). Every size read from the
// input is checked against the data present and the limits before anything
// is allocated; malformed input ends in an error, never a panic.
package pixel

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"lightbox/backend/codec"
	"lightbox/backend/dcm"
)

// Codecs maps a transfer syntax UID to the decoder for it.
type Codecs map[string]codec.Decoder

// DefaultMaxFrameBytes bounds the canonical size of one frame (1 GiB).
const DefaultMaxFrameBytes = 1 << 30

type config struct {
	codecs        Codecs
	maxFrameBytes int
	logger        *slog.Logger
	parse         dcm.Options
}

// Option configures FromFile and Open.
type Option func(*config)

// WithCodecs sets the codec table (default DefaultCodecs()). A transfer
// syntax missing from it cannot be decoded (ErrUnsupportedTS).
func WithCodecs(c Codecs) Option { return func(cf *config) { cf.codecs = c } }

// WithMaxFrameBytes bounds the canonical size of one frame
// (default DefaultMaxFrameBytes). Larger images give ErrTooLarge.
func WithMaxFrameBytes(n int) Option { return func(cf *config) { cf.maxFrameBytes = n } }

// WithLogger sets the logger for warnings (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(cf *config) { cf.logger = l } }

// WithParseOptions sets the dcm parser options used by Open.
func WithParseOptions(o dcm.Options) Option { return func(cf *config) { cf.parse = o } }

// Image is the pixel data of one DICOM instance, ready to be decoded frame
// by frame.
type Image struct {
	File *dcm.File
	Info Info

	cfg      config
	decoder  codec.Decoder // nil for native pixel data
	pixels   *dcm.Element
	frames   [][]dcm.Fragment // encapsulated: the fragments of each frame
	modality Modality
	palette  *Palette
	owned    bool
}

// Open parses the file at path and prepares its frames. The caller must
// Close the Image.
func Open(path string, opts ...Option) (*Image, error) {
	cfg := newConfig(opts)
	f, err := dcm.ParseFile(path, cfg.parse)
	if err != nil {
		return nil, err
	}
	img, err := fromFile(f, cfg)
	if err != nil {
		f.Close()
		return nil, err
	}
	img.owned = true
	return img, nil
}

// FromFile prepares the frames of a parsed file. The Image borrows f: keep
// f open while the Image is in use, and close it yourself.
func FromFile(f *dcm.File, opts ...Option) (*Image, error) {
	return fromFile(f, newConfig(opts))
}

func newConfig(opts []Option) config {
	cfg := config{maxFrameBytes: DefaultMaxFrameBytes}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.codecs == nil {
		cfg.codecs = DefaultCodecs()
	}
	if cfg.logger == nil {
		cfg.logger = slog.Default()
	}
	return cfg
}

// Close releases the file of an Image made by Open; it does nothing for an
// Image made by FromFile.
func (img *Image) Close() error {
	if img == nil || !img.owned {
		return nil
	}
	return img.File.Close()
}

func fromFile(f *dcm.File, cfg config) (*Image, error) {
	if f == nil || f.DataSet == nil {
		return nil, fmt.Errorf("%w: no data set", ErrInvalidImage)
	}
	px := f.DataSet.Get(dcm.TagPixelData)
	if px == nil {
		return nil, ErrNoPixelData
	}
	in, err := parseInfo(f)
	if err != nil {
		return nil, err
	}
	if in.FrameSize() > cfg.maxFrameBytes {
		return nil, fmt.Errorf("%w: a frame of %d bytes (limit %d)", ErrTooLarge, in.FrameSize(), cfg.maxFrameBytes)
	}
	img := &Image{File: f, Info: in, cfg: cfg, pixels: px}
	if px.Encapsulated() != in.Encapsulated {
		if px.Encapsulated() {
			return nil, invalid("encapsulated pixel data in %s", in.TransferSyntaxName)
		}
		return nil, invalid("native pixel data in %s", in.TransferSyntaxName)
	}
	if in.Encapsulated {
		dec, ok := cfg.codecs[in.TransferSyntaxUID]
		if !ok || dec == nil {
			return nil, fmt.Errorf("%w %s (%s)", ErrUnsupportedTS, in.TransferSyntaxName, in.TransferSyntaxUID)
		}
		img.decoder = dec
		if img.frames, err = mapFrames(f, px, in.Frames, &img.Info); err != nil {
			return nil, err
		}
	} else if err := img.checkNative(); err != nil {
		return nil, err
	}
	if img.modality, err = parseModality(f, in); err != nil {
		return nil, err
	}
	if in.Palette() {
		if img.palette, err = parsePalette(f); err != nil {
			return nil, err
		}
	}
	for _, w := range img.Info.Warnings {
		cfg.logger.Debug("pixel: tolerated", "warning", w)
	}
	return img, nil
}

// Frame decodes frame n (0-based) into a new buffer of Info.FrameSize()
// canonical bytes.
func (img *Image) Frame(ctx context.Context, n int) ([]byte, error) {
	dst := make([]byte, img.Info.FrameSize())
	if err := img.FrameInto(ctx, n, dst); err != nil {
		return nil, err
	}
	return dst, nil
}

// FrameInto is Frame into the caller's dst, which must have FrameSize
// bytes (callers that stream many frames reuse one buffer).
func (img *Image) FrameInto(ctx context.Context, n int, dst []byte) error {
	if n < 0 || n >= img.Info.Frames {
		return fmt.Errorf("%w: frame %d of %d", ErrFrameRange, n, img.Info.Frames)
	}
	if len(dst) != img.Info.FrameSize() {
		return fmt.Errorf("pixel: frame buffer of %d bytes for a %d-byte frame", len(dst), img.Info.FrameSize())
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return img.frameInto(n, dst)
}

func (img *Image) frameInto(n int, dst []byte) error {
	in := &img.Info
	if img.decoder == nil {
		return img.nativeFrame(n, dst)
	}
	src, err := img.readFragments(img.frames[n])
	if err != nil {
		return err
	}
	if err := img.decoder.Decode(src, in.params(), dst); err != nil {
		return fmt.Errorf("frame %d (%s): %w", n, in.TransferSyntaxName, err)
	}
	if img.File.TransferSyntax.Lossy {
		clampStored(dst, in)
	} else {
		normalize(dst, in, 0)
	}
	// Colour: every codec converts its own Y,Cb,Cr to R,G,B (the codec
	// contract), RLE included; only native YBR is converted here.
	return nil
}

// Canonical writes the canonical samples of every frame to w, in order.
// The SHA-256 of the output is the corpus pixel_sha256.
func (img *Image) Canonical(ctx context.Context, w io.Writer) error {
	buf := make([]byte, img.Info.FrameSize())
	for n := 0; n < img.Info.Frames; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := img.frameInto(n, buf); err != nil {
			return err
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}

// FrameForViewer returns frame n as the HTTP frame endpoint serves it: the
// canonical samples and their data type, except that PALETTE COLOR is
// expanded through the palette to rgb8 (8-bit palette entries) or rgb16.
func (img *Image) FrameForViewer(ctx context.Context, n int) ([]byte, string, error) {
	b, err := img.Frame(ctx, n)
	if err != nil {
		return nil, "", err
	}
	if img.palette == nil {
		return b, img.Info.DataType, nil
	}
	return img.palette.expand(b, img.Info)
}

// Modality returns the modality transform (rescale or Modality LUT) of
// frame 0; see FrameModality for enhanced multi-frame images.
func (img *Image) Modality() Modality { return img.FrameModality(0) }

// Palette returns the palette of a PALETTE COLOR image, or nil.
func (img *Image) Palette() *Palette { return img.palette }

// StoredRange returns the smallest and largest stored value of frame n
// (over all samples).
func (img *Image) StoredRange(ctx context.Context, n int) (lo, hi int64, err error) {
	b, err := img.Frame(ctx, n)
	if err != nil {
		return 0, 0, err
	}
	lo, hi = SampleRange(b, img.Info)
	return lo, hi, nil
}

// readFragments concatenates the fragments of one encapsulated frame.
func (img *Image) readFragments(frags []dcm.Fragment) ([]byte, error) {
	var total int64
	for _, fr := range frags {
		total += int64(fr.Length)
	}
	// A compressed frame larger than 2x the raw frame (+ headers) is absurd.
	if limit := 2*int64(img.Info.FrameSize()) + 1<<20; total > limit {
		return nil, fmt.Errorf("%w: a compressed frame of %d bytes for %d bytes of pixels", ErrTooLarge, total, img.Info.FrameSize())
	}
	buf := make([]byte, total)
	pos := 0
	for _, fr := range frags {
		if err := readAt(img.File.Source, buf[pos:pos+int(fr.Length)], fr.Offset); err != nil {
			return nil, err
		}
		pos += int(fr.Length)
	}
	return buf, nil
}

func readAt(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("%w: reading %d bytes of pixel data at offset %d: %w", ErrInvalidImage, len(b), off, err)
}
