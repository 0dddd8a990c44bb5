// Package codec defines the contract between the frame layer and the pixel
// codecs (RLE, the JPEG family, JPEG-LS, JPEG 2000).
//
// A codec knows nothing of DICOM files or of the network: it is handed the
// bytes of one compressed frame (all its fragments already concatenated) and
// a description of the expected image, and it fills a caller-owned buffer.
//
// Output layout (the "canonical samples" of the test corpus):
//   - row-major, samples interleaved (R,G,B,R,G,B...) whatever the
//     PlanarConfiguration of the data set says;
//   - each sample a little-endian unsigned integer of BitsAllocated width
//     (8 -> 1 byte, 16 -> 2, 32 -> 4), holding the decoded value;
//     masking to BitsStored and sign extension are the frame layer's job;
//   - colour: a codec that knows its samples are Y,Cb,Cr (from the
//     Photometric Interpretation and its own markers, e.g. JFIF/Adobe, or an
//     RCT/ICT component transform) converts them to R,G,B itself; the frame
//     layer only converts native (uncompressed) YBR data.
//   - lossy data that overshoots the precision (e.g. 12-bit values above
//     4095) is clamped to [0, 2^P-1], never masked.
//
// Decoders are safe for concurrent use; they hold no state between calls
// except optional pools of reusable buffers.
package codec

import "errors"

// Params describes the frame as the data set declares it.
type Params struct {
	Rows, Columns       int
	SamplesPerPixel     int
	BitsAllocated       int
	BitsStored          int
	Signed              bool   // PixelRepresentation 1
	Photometric         string // e.g. MONOCHROME2, RGB, YBR_FULL_422, YBR_RCT
	PlanarConfiguration int
}

// FrameSize is the number of bytes the canonical output of one frame takes.
func (p Params) FrameSize() int {
	return p.Rows * p.Columns * p.SamplesPerPixel * ((p.BitsAllocated + 7) / 8)
}

// Decoder decodes one frame. dst has exactly p.FrameSize() bytes.
// An error leaves dst in an unspecified state.
type Decoder interface {
	Decode(src []byte, p Params, dst []byte) error
}

// Sentinel errors shared by every codec; wrap them with details
// (fmt.Errorf("jpeg: %w: ...", codec.ErrCorrupt)).
var (
	// ErrCorrupt: the codestream is malformed or truncated.
	ErrCorrupt = errors.New("corrupt codestream")
	// ErrUnsupported: a valid codestream using a feature this codec lacks.
	ErrUnsupported = errors.New("unsupported codestream feature")
	// ErrMismatch: the codestream disagrees with Params (size, components,
	// precision) in a way that cannot be reconciled.
	ErrMismatch = errors.New("codestream does not match the data set")
	// ErrTooLarge: a header declares a size beyond the limits.
	ErrTooLarge = errors.New("declared size exceeds limits")
)

// MaxPixels bounds Rows*Columns*SamplesPerPixel that any codec accepts
// from a header before allocating (512 Mi samples).
const MaxPixels = 1 << 29
