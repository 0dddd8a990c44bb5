package pixel_test

import (
	"bytes"
	"context"
	"fmt"

	"lightbox/backend/dcm"
	"lightbox/backend/pixel"
	"lightbox/backend/pixel/pixeltest"
)

// A 2x2 CT-like image: stored int16 values with a rescale to HU.
func Example() {
	file := pixeltest.New(dcm.ExplicitVRLittleEndian).Image(2, 2, 1, 16, 12, 11, 1, "MONOCHROME2").
		Str(dcm.TagRescaleIntercept, "DS", "-1024").Str(dcm.TagRescaleSlope, "DS", "1").
		El(dcm.TagPixelData, "OW", []byte{0, 0, 0x18, 0x04, 0xFF, 0x0F, 0xD0, 0x07}).Buf

	f, err := dcm.ParseBytes(file, dcm.Options{})
	if err != nil {
		panic(err)
	}
	img, err := pixel.FromFile(f) // DefaultCodecs(); f stays owned by the caller
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	fmt.Println(img.Info.DataType, img.Info.Frames, img.Info.FrameSize())

	var canonical bytes.Buffer // what `lightbox decode` writes
	if err := img.Canonical(ctx, &canonical); err != nil {
		panic(err)
	}
	fmt.Println(pixel.Samples(canonical.Bytes(), img.Info))

	s, _ := img.Probe(ctx, 1, 0, 0) // column 1, row 0, frame 0
	fmt.Println(s.Stored, s)
	// Output:
	// int16 1 8
	// [0 1048 -1 2000]
	// 1048 24
}
