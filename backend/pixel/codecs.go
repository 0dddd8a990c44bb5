package pixel

import (
	"lightbox/backend/codec/jpeg"
	"lightbox/backend/codec/jpegls"
	"lightbox/backend/codec/rle"
	"lightbox/backend/dcm"
)

// DefaultCodecs returns a new codec table with every codec package that
// exists in the repository: RLE Lossless, the JPEG family (baseline,
// extended, lossless .57 and .70) and JPEG-LS (.80, .81). JPEG 2000 (.90,
// .91) is not in it yet: those files give ErrUnsupportedTS.
//
// Each call returns a fresh map; the decoders in it are safe for
// concurrent use.
func DefaultCodecs() Codecs {
	j := &jpeg.Decoder{}
	ls := jpegls.New()
	return Codecs{
		dcm.RLELossless:        rle.Decoder{},
		dcm.JPEGBaseline:       j,
		dcm.JPEGExtended:       j,
		dcm.JPEGLossless:       j,
		dcm.JPEGLosslessSV1:    j,
		dcm.JPEGLSLossless:     ls,
		dcm.JPEGLSNearLossless: ls,
	}
}
