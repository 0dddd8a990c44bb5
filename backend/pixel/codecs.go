package pixel

import (
	"lightbox/backend/codec/jpeg"
	"lightbox/backend/codec/jpeg2k"
	"lightbox/backend/codec/jpegls"
	"lightbox/backend/codec/rle"
	"lightbox/backend/dcm"
)

// DefaultCodecs returns a new codec table with every codec package that
// exists in the repository: RLE Lossless, the JPEG family (baseline,
// extended, lossless .57 and .70), JPEG-LS (.80, .81) and JPEG 2000 (.90,
// .91).
//
// Each call returns a fresh map; the decoders in it are safe for
// concurrent use.
func DefaultCodecs() Codecs {
	j := &jpeg.Decoder{}
	ls := jpegls.New()
	j2k := &jpeg2k.Decoder{}
	return Codecs{
		dcm.RLELossless:        rle.Decoder{},
		dcm.JPEGBaseline:       j,
		dcm.JPEGExtended:       j,
		dcm.JPEGLossless:       j,
		dcm.JPEGLosslessSV1:    j,
		dcm.JPEGLSLossless:     ls,
		dcm.JPEGLSNearLossless: ls,
		dcm.JPEG2000Lossless:   j2k,
		dcm.JPEG2000:           j2k,
	}
}
