package pixel

import "errors"

// Sentinel errors. Every error returned by this package wraps one of them
// (or a codec sentinel from package codec, or a dcm sentinel); test with
// errors.Is.
var (
	// ErrInvalidImage: the image attributes are missing, out of range or
	// inconsistent with each other or with the pixel data (Rows = 0,
	// BitsStored > BitsAllocated, pixel data too short, fragments that do
	// not map onto frames...).
	ErrInvalidImage = errors.New("invalid image")
	// ErrNoPixelData: the data set has no Pixel Data (7FE0,0010).
	ErrNoPixelData = errors.New("no pixel data")
	// ErrUnsupportedTS: the transfer syntax is known but no codec for it is
	// in the codec table (or it is not an image transfer syntax at all).
	ErrUnsupportedTS = errors.New("unsupported transfer syntax")
	// ErrUnsupported: a valid image that uses a feature this package does
	// not handle (e.g. SamplesPerPixel 4).
	ErrUnsupported = errors.New("unsupported image")
	// ErrFrameRange: a frame number outside [0, Frames).
	ErrFrameRange = errors.New("frame number out of range")
	// ErrTooLarge: a declared size beyond the configured limits.
	ErrTooLarge = errors.New("image exceeds size limits")
	// ErrOutOfBounds: a probe point outside the image.
	ErrOutOfBounds = errors.New("point outside the image")
)
