package pixel

import (
	"fmt"
	"strings"

	"lightbox/backend/codec"
	"lightbox/backend/dcm"
)

// Info describes the image as the data set declares it, after validation.
type Info struct {
	Rows, Columns       int
	Frames              int
	SamplesPerPixel     int
	BitsAllocated       int
	BitsStored          int
	HighBit             int
	PixelRepresentation int    // 0 unsigned, 1 two's complement
	Photometric         string // e.g. MONOCHROME2, RGB, YBR_FULL_422, PALETTE COLOR
	PlanarConfiguration int
	TransferSyntaxUID   string
	TransferSyntaxName  string
	Encapsulated        bool
	// DataType names the canonical samples returned by Image.Frame, as in
	// the API contract: uint8, int8, uint16, int16, uint32, int32 (one
	// sample per pixel), rgb8, rgb16 or rgb32 (three interleaved samples).
	// BitsAllocated 1 is unpacked to one uint8 (0 or 1) per pixel.
	DataType string
	// Warnings lists what was tolerated (e.g. a HighBit out of range).
	Warnings []string
}

// Signed reports PixelRepresentation 1.
func (in Info) Signed() bool { return in.PixelRepresentation == 1 }

// Monochrome reports MONOCHROME1 or MONOCHROME2.
func (in Info) Monochrome() bool { return strings.HasPrefix(in.Photometric, "MONOCHROME") }

// Palette reports PALETTE COLOR.
func (in Info) Palette() bool { return in.Photometric == "PALETTE COLOR" }

// BytesPerSample is the width of one canonical sample (1, 2 or 4).
func (in Info) BytesPerSample() int {
	if in.BitsAllocated <= 8 {
		return 1
	}
	return in.BitsAllocated / 8
}

// FrameSize is the number of bytes of one canonical frame.
func (in Info) FrameSize() int {
	return in.Rows * in.Columns * in.SamplesPerPixel * in.BytesPerSample()
}

// params is the codec description of a frame.
func (in Info) params() codec.Params {
	return codec.Params{Rows: in.Rows, Columns: in.Columns, SamplesPerPixel: in.SamplesPerPixel,
		BitsAllocated: in.BitsAllocated, BitsStored: in.BitsStored, Signed: in.Signed(),
		Photometric: in.Photometric, PlanarConfiguration: in.PlanarConfiguration}
}

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidImage}, a...)...)
}

// parseInfo reads and validates the Image Pixel module attributes.
func parseInfo(f *dcm.File) (Info, error) {
	ds := f.DataSet
	var in Info
	in.TransferSyntaxUID = f.TransferSyntax.UID
	in.TransferSyntaxName = f.TransferSyntax.Name
	in.Encapsulated = f.TransferSyntax.Encapsulated
	var ok bool
	if in.Rows, ok = ds.Int(dcm.TagRows); !ok || in.Rows <= 0 {
		return in, invalid("Rows %d", in.Rows)
	}
	if in.Columns, ok = ds.Int(dcm.TagColumns); !ok || in.Columns <= 0 {
		return in, invalid("Columns %d", in.Columns)
	}
	in.SamplesPerPixel = ds.IntOr(dcm.TagSamplesPerPixel, 1)
	switch in.SamplesPerPixel {
	case 1, 3:
	default:
		return in, fmt.Errorf("%w: SamplesPerPixel %d", ErrUnsupported, in.SamplesPerPixel)
	}
	in.BitsAllocated, ok = ds.Int(dcm.TagBitsAllocated)
	if !ok {
		return in, invalid("no BitsAllocated")
	}
	switch in.BitsAllocated {
	case 1, 8, 16, 32:
	default:
		return in, invalid("BitsAllocated %d", in.BitsAllocated)
	}
	in.BitsStored = ds.IntOr(dcm.TagBitsStored, in.BitsAllocated)
	if in.BitsStored < 1 || in.BitsStored > in.BitsAllocated {
		return in, invalid("BitsStored %d with BitsAllocated %d", in.BitsStored, in.BitsAllocated)
	}
	in.HighBit = ds.IntOr(dcm.TagHighBit, in.BitsStored-1)
	if in.HighBit < in.BitsStored-1 || in.HighBit >= in.BitsAllocated {
		in.Warnings = append(in.Warnings, fmt.Sprintf("HighBit %d impossible with BitsStored %d, BitsAllocated %d: using %d",
			in.HighBit, in.BitsStored, in.BitsAllocated, in.BitsStored-1))
		in.HighBit = in.BitsStored - 1
	}
	in.PixelRepresentation = ds.IntOr(dcm.TagPixelRepresentation, 0)
	if in.PixelRepresentation != 0 && in.PixelRepresentation != 1 {
		in.Warnings = append(in.Warnings, fmt.Sprintf("PixelRepresentation %d read as 0", in.PixelRepresentation))
		in.PixelRepresentation = 0
	}
	in.Photometric = strings.ToUpper(strings.TrimSpace(ds.Text(dcm.TagPhotometric)))
	if in.Photometric == "" {
		in.Photometric = "MONOCHROME2"
		if in.SamplesPerPixel == 3 {
			in.Photometric = "RGB"
		}
		in.Warnings = append(in.Warnings, "no PhotometricInterpretation: assuming "+in.Photometric)
	}
	colour := in.SamplesPerPixel == 3
	switch in.Photometric {
	case "MONOCHROME1", "MONOCHROME2", "PALETTE COLOR":
		if colour {
			return in, invalid("%s with SamplesPerPixel 3", in.Photometric)
		}
	case "RGB", "YBR_FULL", "YBR_FULL_422", "YBR_PARTIAL_422", "YBR_PARTIAL_420", "YBR_ICT", "YBR_RCT":
		if !colour {
			return in, invalid("%s with SamplesPerPixel 1", in.Photometric)
		}
	default:
		return in, fmt.Errorf("%w: PhotometricInterpretation %q", ErrUnsupported, in.Photometric)
	}
	if in.Photometric == "YBR_FULL_422" && !in.Encapsulated && in.Columns%2 != 0 {
		return in, invalid("YBR_FULL_422 with an odd number of columns (%d)", in.Columns)
	}
	if in.BitsAllocated == 1 && (colour || in.Encapsulated) {
		return in, fmt.Errorf("%w: BitsAllocated 1 with SamplesPerPixel %d in %s", ErrUnsupported, in.SamplesPerPixel, in.TransferSyntaxName)
	}
	if colour {
		in.PlanarConfiguration = ds.IntOr(dcm.TagPlanarConfiguration, 0)
		if in.PlanarConfiguration != 0 && in.PlanarConfiguration != 1 {
			return in, invalid("PlanarConfiguration %d", in.PlanarConfiguration)
		}
	}
	in.Frames = 1
	if e := ds.Get(dcm.TagNumberOfFrames); e != nil {
		n, ok := ds.Int(dcm.TagNumberOfFrames)
		switch {
		case !ok:
			in.Warnings = append(in.Warnings, fmt.Sprintf("NumberOfFrames %q unreadable: assuming 1", ds.Text(dcm.TagNumberOfFrames)))
		case n < 1:
			in.Warnings = append(in.Warnings, fmt.Sprintf("NumberOfFrames %d: assuming 1", n))
		default:
			in.Frames = n
		}
	}
	if in.Rows*in.Columns > codec.MaxPixels/in.SamplesPerPixel {
		return in, fmt.Errorf("%w: %dx%dx%d samples", ErrTooLarge, in.Columns, in.Rows, in.SamplesPerPixel)
	}
	in.DataType = dataType(in.SamplesPerPixel, in.BitsAllocated, in.Signed())
	return in, nil
}

func dataType(spp, bitsAllocated int, signed bool) string {
	w := bitsAllocated
	if w < 8 {
		w = 8
	}
	if spp == 3 {
		return fmt.Sprintf("rgb%d", w)
	}
	if signed {
		return fmt.Sprintf("int%d", w)
	}
	return fmt.Sprintf("uint%d", w)
}
