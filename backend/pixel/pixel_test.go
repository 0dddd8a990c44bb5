package pixel

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"testing"

	"lightbox/backend/codec"
	"lightbox/backend/dcm"
	"lightbox/backend/pixel/pixeltest"
)

func open(t *testing.T, b *pixeltest.Builder, opts ...Option) (*Image, error) {
	t.Helper()
	f, err := b.Parse()
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return FromFile(f, opts...)
}

func frameValues(t *testing.T, img *Image, n int) []int64 {
	t.Helper()
	b, err := img.Frame(context.Background(), n)
	if err != nil {
		t.Fatalf("frame %d: %v", n, err)
	}
	return Samples(b, img.Info)
}

func u16le(v ...uint16) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint16(b, x)
	}
	return b
}

func TestNative(t *testing.T) {
	cases := []struct {
		name   string
		build  func() *pixeltest.Builder
		frames [][]int64
		dtype  string
	}{
		{"signed 12 in 16, garbage above the high bit", func() *pixeltest.Builder {
			return pixeltest.New(dcm.ExplicitVRLittleEndian).Image(1, 4, 1, 16, 12, 11, 1, "MONOCHROME2").
				El(dcm.TagPixelData, "OW", u16le(0xF800, 0x07FF, 0x1FFF, 0xA001))
		}, [][]int64{{-2048, 2047, -1, 1}}, "int16"},
		{"unsigned 8 stored at high bit 11", func() *pixeltest.Builder {
			return pixeltest.New(dcm.ExplicitVRLittleEndian).Image(1, 3, 1, 16, 8, 11, 0, "MONOCHROME2").
				El(dcm.TagPixelData, "OW", u16le(0x0FF0, 0x0010, 0xF00F))
		}, [][]int64{{255, 1, 0}}, "uint16"},
		{"signed 8-bit", func() *pixeltest.Builder {
			return pixeltest.New(dcm.ExplicitVRLittleEndian).Image(1, 3, 1, 8, 8, 7, 1, "MONOCHROME2").
				El(dcm.TagPixelData, "OB", []byte{0x80, 0x7F, 0xFF})
		}, [][]int64{{-128, 127, -1}}, "int8"},
		{"1-bit, 3 frames of 3x3 not byte aligned", func() *pixeltest.Builder {
			// 27 bits: frame k has pixel k*4 % 9 set, LSB first
			bits := make([]byte, 4)
			for _, i := range []int{0, 9 + 4, 18 + 8} {
				bits[i/8] |= 1 << (i % 8)
			}
			return pixeltest.New(dcm.ExplicitVRLittleEndian).Image(3, 3, 1, 1, 1, 0, 0, "MONOCHROME2").Frames(3).
				El(dcm.TagPixelData, "OB", bits)
		}, [][]int64{{1, 0, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 1, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0, 1}}, "uint8"},
		{"RGB planar configuration 1, two frames", func() *pixeltest.Builder {
			return pixeltest.New(dcm.ExplicitVRLittleEndian).Image(1, 2, 3, 8, 8, 7, 0, "RGB").
				US(dcm.TagPlanarConfiguration, 1).Frames(2).
				El(dcm.TagPixelData, "OB", []byte{1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16})
		}, [][]int64{{1, 3, 5, 2, 4, 6}, {11, 13, 15, 12, 14, 16}}, "rgb8"},
		{"big endian 16-bit signed", func() *pixeltest.Builder {
			b := pixeltest.New(dcm.ExplicitVRBigEndian).Image(1, 3, 1, 16, 16, 15, 1, "MONOCHROME2")
			return b.OW(dcm.TagPixelData, 0x8000, 0x1234, 0xFFFE)
		}, [][]int64{{-32768, 0x1234, -2}}, "int16"},
		{"big endian 8-bit in OW words, odd frame", func() *pixeltest.Builder {
			b := pixeltest.New(dcm.ExplicitVRBigEndian).Image(1, 3, 1, 8, 8, 7, 0, "MONOCHROME2").Frames(2)
			return b.OW(dcm.TagPixelData, 0x0201, 0x0403, 0x0605) // first pixel in the low byte of each word
		}, [][]int64{{1, 2, 3}, {4, 5, 6}}, "uint8"},
		{"big endian 32-bit", func() *pixeltest.Builder {
			b := pixeltest.New(dcm.ExplicitVRBigEndian).Image(1, 2, 1, 32, 32, 31, 0, "MONOCHROME2")
			return b.OW(dcm.TagPixelData, 0x0001, 0x0002, 0xFFFF, 0xFFFF)
		}, [][]int64{{0x00010002, 0xFFFFFFFF}}, "uint32"},
		{"YBR_FULL_422 to RGB", func() *pixeltest.Builder {
			return pixeltest.New(dcm.ExplicitVRLittleEndian).Image(1, 2, 3, 8, 8, 7, 0, "YBR_FULL_422").
				El(dcm.TagPixelData, "OB", []byte{100, 200, 128, 228})
		}, [][]int64{{240, 29, 100, 255, 129, 200}}, "rgb8"},
		{"YBR_FULL to RGB", func() *pixeltest.Builder {
			return pixeltest.New(dcm.ExplicitVRLittleEndian).Image(1, 1, 3, 8, 8, 7, 0, "YBR_FULL").
				El(dcm.TagPixelData, "OB", []byte{76, 85, 255, 0}) // pure red, rounded
		}, [][]int64{{254, 0, 0}}, "rgb8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img, err := open(t, c.build())
			if err != nil {
				t.Fatal(err)
			}
			if img.Info.DataType != c.dtype {
				t.Errorf("data type %s, want %s", img.Info.DataType, c.dtype)
			}
			if img.Info.Frames != len(c.frames) {
				t.Fatalf("%d frames, want %d", img.Info.Frames, len(c.frames))
			}
			for n, want := range c.frames {
				if got := frameValues(t, img, n); !reflect.DeepEqual(got, want) {
					t.Errorf("frame %d: %v, want %v", n, got, want)
				}
			}
			var all bytes.Buffer
			if err := img.Canonical(context.Background(), &all); err != nil {
				t.Fatal(err)
			}
			if all.Len() != img.Info.FrameSize()*img.Info.Frames {
				t.Errorf("canonical output %d bytes, want %d", all.Len(), img.Info.FrameSize()*img.Info.Frames)
			}
		})
	}
}

func TestYBRFormula(t *testing.T) {
	// the corpus formula, computed here independently for one pixel
	y, cb, cr := 100.0, 128.0-128, 228.0-128
	want := []int64{int64(math.RoundToEven(y + 1.402*cr)), int64(math.RoundToEven(y - 0.714136*cr)), int64(math.RoundToEven(y))}
	if !reflect.DeepEqual(want, []int64{240, 29, 100}) || cb != 0 {
		t.Fatalf("formula check %v", want)
	}
}

func TestEncapsulatedFrames(t *testing.T) {
	ts := "1.2.840.10008.1.2.4.70"
	codecs := Codecs{ts: pixeltest.CopyCodec{}}
	f := func(b ...byte) []byte { return b }
	soi := func(rest ...byte) []byte { return append([]byte{0xFF, 0xD8, 0xFF}, rest...) }
	cases := []struct {
		name  string
		build func(*pixeltest.Builder) *pixeltest.Builder
		want  [][]byte
	}{
		{"basic offset table, multi-fragment frames", func(b *pixeltest.Builder) *pixeltest.Builder {
			// frame 0: 2+4 bytes, frame 1: 2+2+2 bytes; items are 8+len
			return b.Frames(2).Encap(pixeltest.LE32(0, 10+12), f(1, 2), f(3, 4, 5, 6), f(7, 8), f(9, 10), f(11, 12))
		}, [][]byte{{1, 2, 3, 4, 5, 6}, {7, 8, 9, 10, 11, 12}}},
		{"extended offset table", func(b *pixeltest.Builder) *pixeltest.Builder {
			return b.Frames(2).El(dcm.TagExtendedOffsetTable, "OV", pixeltest.LE64(0, 14)).
				El(dcm.TagExtendedOffsetLengths, "OV", pixeltest.LE64(6, 6)).
				Encap(nil, f(1, 2, 3, 4, 5, 6), f(7, 8, 9, 10, 11, 12))
		}, [][]byte{{1, 2, 3, 4, 5, 6}, {7, 8, 9, 10, 11, 12}}},
		{"codec markers, empty offset table", func(b *pixeltest.Builder) *pixeltest.Builder {
			return b.Frames(2).Encap(nil, soi(1, 2, 3), f(4, 5), soi(1, 2, 3), f(9, 9))
		}, [][]byte{{0xFF, 0xD8, 0xFF, 1, 2, 3, 4, 5}, {0xFF, 0xD8, 0xFF, 1, 2, 3, 9, 9}}},
		{"one fragment per frame", func(b *pixeltest.Builder) *pixeltest.Builder {
			return b.Frames(2).Encap(nil, f(1, 2, 3, 4, 5, 6, 7, 8), f(9, 10, 11, 12, 13, 14, 15, 16))
		}, [][]byte{{1, 2, 3, 4, 5, 6, 7, 8}, {9, 10, 11, 12, 13, 14, 15, 16}}},
		{"single frame in three fragments", func(b *pixeltest.Builder) *pixeltest.Builder {
			return b.Encap(nil, f(1, 2), f(3, 4, 5, 6), f(7, 8))
		}, [][]byte{{1, 2, 3, 4, 5, 6, 7, 8}}},
		{"wrong offset table falls back to one fragment per frame", func(b *pixeltest.Builder) *pixeltest.Builder {
			return b.Frames(2).Encap(pixeltest.LE32(0, 3), f(1, 2, 3, 4, 5, 6, 7, 8), f(9, 10, 11, 12, 13, 14, 15, 16))
		}, [][]byte{{1, 2, 3, 4, 5, 6, 7, 8}, {9, 10, 11, 12, 13, 14, 15, 16}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var cols int
			for _, w := range c.want {
				cols = len(w)
			}
			b := pixeltest.New(ts).Image(1, cols, 1, 8, 8, 7, 0, "MONOCHROME2")
			img, err := open(t, c.build(b), WithCodecs(codecs))
			if err != nil {
				t.Fatal(err)
			}
			for n, want := range c.want {
				got, err := img.Frame(context.Background(), n)
				if err != nil {
					t.Fatalf("frame %d: %v", n, err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("frame %d: % x, want % x", n, got, want)
				}
			}
		})
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	j2k := pixeltest.New(dcm.JPEG2000).Image(2, 2, 1, 8, 8, 7, 0, "MONOCHROME2").Encap(nil, []byte{0xFF, 0x4F, 0xFF, 0x51})
	if _, err := open(t, j2k, WithCodecs(Codecs{})); !errors.Is(err, ErrUnsupportedTS) ||
		err.Error() != "unsupported transfer syntax JPEG 2000 (1.2.840.10008.1.2.4.91)" {
		t.Errorf("absent codec: %v", err)
	}
	cases := []struct {
		name  string
		build *pixeltest.Builder
		want  error
	}{
		{"rows 0", pixeltest.New(dcm.ExplicitVRLittleEndian).Image(0, 2, 1, 8, 8, 7, 0, "MONOCHROME2").
			El(dcm.TagPixelData, "OB", []byte{1, 2}), ErrInvalidImage},
		{"bits stored above allocated", pixeltest.New(dcm.ExplicitVRLittleEndian).Image(1, 1, 1, 16, 17, 16, 0, "MONOCHROME2").
			El(dcm.TagPixelData, "OW", []byte{1, 2}), ErrInvalidImage},
		{"pixel data too short", pixeltest.New(dcm.ExplicitVRLittleEndian).Image(2, 2, 1, 16, 16, 15, 0, "MONOCHROME2").
			El(dcm.TagPixelData, "OW", []byte{1, 2, 3, 4}), ErrInvalidImage},
		{"too short for the frames", pixeltest.New(dcm.ExplicitVRLittleEndian).Image(1, 2, 1, 8, 8, 7, 0, "MONOCHROME2").
			Frames(3).El(dcm.TagPixelData, "OB", []byte{1, 2, 3, 4}), ErrInvalidImage},
		{"no pixel data", pixeltest.New(dcm.ExplicitVRLittleEndian).Image(1, 2, 1, 8, 8, 7, 0, "MONOCHROME2"), ErrNoPixelData},
		{"no fragments", pixeltest.New(dcm.RLELossless).Image(1, 2, 1, 8, 8, 7, 0, "MONOCHROME2").Encap(nil), ErrInvalidImage},
		{"more frames than fragments", pixeltest.New(dcm.RLELossless).Image(1, 2, 1, 8, 8, 7, 0, "MONOCHROME2").Frames(3).
			Encap(nil, []byte{1, 2}), ErrInvalidImage},
		{"samples per pixel 4", pixeltest.New(dcm.ExplicitVRLittleEndian).Image(1, 1, 4, 8, 8, 7, 0, "ARGB").
			El(dcm.TagPixelData, "OB", []byte{1, 2, 3, 4}), ErrUnsupported},
		{"huge frame", pixeltest.New(dcm.RLELossless).Image(65535, 65535, 3, 32, 32, 31, 0, "RGB").Encap(nil, []byte{1, 2}), ErrTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := open(t, c.build)
			if !errors.Is(err, c.want) {
				t.Errorf("got %v, want %v", err, c.want)
			}
		})
	}
	img, err := open(t, pixeltest.New(dcm.ExplicitVRLittleEndian).Image(1, 2, 1, 8, 8, 7, 0, "MONOCHROME2").
		El(dcm.TagPixelData, "OB", []byte{1, 2}))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{-1, 1} {
		if _, err := img.Frame(ctx, n); !errors.Is(err, ErrFrameRange) {
			t.Errorf("frame %d: %v", n, err)
		}
	}
	if _, err := img.Probe(ctx, 2, 0, 0); !errors.Is(err, ErrOutOfBounds) {
		t.Errorf("probe outside: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := img.Frame(cancelled, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
	// a codec error is passed on, wrapped
	rle := pixeltest.New(dcm.RLELossless).Image(1, 2, 1, 8, 8, 7, 0, "MONOCHROME2").Encap(nil, []byte{1, 2, 3})
	img, err = open(t, rle, WithCodecs(Codecs{dcm.RLELossless: pixeltest.CopyCodec{}}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := img.Frame(ctx, 0); !errors.Is(err, codec.ErrMismatch) {
		t.Errorf("codec error: %v", err)
	}
}

func TestModalityLUTAndRescale(t *testing.T) {
	ctx := context.Background()
	b := pixeltest.New(dcm.ExplicitVRLittleEndian).Image(1, 3, 1, 16, 12, 11, 1, "MONOCHROME2").
		Str(dcm.TagRescaleIntercept, "DS", "-1024").Str(dcm.TagRescaleSlope, "DS", "2.5").
		El(dcm.TagPixelData, "OW", u16le(0xFFFF, 0, 100))
	img, err := open(t, b)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []float64{-1026.5, -1024, -774} {
		s, err := img.Probe(ctx, i, 0, 0)
		if err != nil || s.Value != want {
			t.Errorf("pixel %d: %v %v, want %v", i, s, err, want)
		}
	}
	// Modality LUT Sequence: 4 entries from -1, 16 bits
	var item []byte
	item = pixeltest.AppendHeader(item, binary.LittleEndian, dcm.TagLUTDescriptor, "SS", 6)
	item = append(item, u16le(4, 0xFFFF, 16)...)
	item = pixeltest.AppendHeader(item, binary.LittleEndian, dcm.TagLUTData, "OW", 8)
	item = append(item, u16le(10, 20, 30, 40)...)
	var seq []byte
	seq = append(seq, u16le(0xFFFE, 0xE000)...)
	seq = binary.LittleEndian.AppendUint32(seq, uint32(len(item)))
	seq = append(seq, item...)
	b = pixeltest.New(dcm.ExplicitVRLittleEndian).Image(1, 4, 1, 16, 16, 15, 1, "MONOCHROME2").
		El(dcm.TagModalityLUTSequence, "SQ", seq).
		El(dcm.TagPixelData, "OW", u16le(0xFFFE, 0xFFFF, 1, 7))
	img, err = open(t, b)
	if err != nil {
		t.Fatal(err)
	}
	if img.Modality().LUT == nil {
		t.Fatal("no modality LUT")
	}
	for i, want := range []float64{10, 10, 30, 40} {
		s, err := img.Probe(ctx, i, 0, 0)
		if err != nil || s.Value != want {
			t.Errorf("pixel %d: %v %v, want %v", i, s, err, want)
		}
	}
}

func TestPalette(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name  string
		build func(*pixeltest.Builder) *pixeltest.Builder
		rgb   []byte // expected FrameForViewer output for indices 0,1,2,3
		dtype string
	}{
		{"16-bit tables", func(b *pixeltest.Builder) *pixeltest.Builder {
			return b.US(dcm.TagRedPaletteDescriptor, 4, 0, 16).US(dcm.TagGreenPaletteDescriptor, 4, 0, 16).
				US(dcm.TagBluePaletteDescriptor, 4, 0, 16).
				OW(dcm.TagRedPaletteData, 0, 0x1000, 0x2000, 0xFFFF).OW(dcm.TagGreenPaletteData, 1, 2, 3, 4).
				OW(dcm.TagBluePaletteData, 5, 6, 7, 8)
		}, u16le(0, 1, 5, 0x1000, 2, 6, 0x2000, 3, 7, 0xFFFF, 4, 8), "rgb16"},
		{"8-bit tables packed two per word, first mapped 1", func(b *pixeltest.Builder) *pixeltest.Builder {
			return b.US(dcm.TagRedPaletteDescriptor, 4, 1, 8).US(dcm.TagGreenPaletteDescriptor, 4, 1, 8).
				US(dcm.TagBluePaletteDescriptor, 4, 1, 8).
				OW(dcm.TagRedPaletteData, 0x0201, 0x0403).OW(dcm.TagGreenPaletteData, 0x0605, 0x0807).
				OW(dcm.TagBluePaletteData, 0x0A09, 0x0C0B)
		}, []byte{1, 5, 9, 1, 5, 9, 2, 6, 10, 3, 7, 11}, "rgb8"},
		{"segmented: discrete, linear, indirect", func(b *pixeltest.Builder) *pixeltest.Builder {
			// red: discrete [0], linear to 300 over 3 -> 0,100,200,300
			// green: discrete [7,8], indirect copy of segment 0 -> 7,8,7,8
			// blue: discrete [5] then linear to 5 over 3 -> 5,5,5,5
			return b.US(dcm.TagRedPaletteDescriptor, 4, 0, 16).US(dcm.TagGreenPaletteDescriptor, 4, 0, 16).
				US(dcm.TagBluePaletteDescriptor, 4, 0, 16).
				OW(dcm.TagSegRedPaletteData, 0, 1, 0, 1, 3, 300).
				OW(dcm.TagSegGreenPaletteData, 0, 2, 7, 8, 2, 1, 0, 0).
				OW(dcm.TagSegBluePaletteData, 0, 1, 5, 1, 3, 5)
		}, u16le(0, 7, 5, 100, 8, 5, 200, 7, 5, 300, 8, 5), "rgb16"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := pixeltest.New(dcm.ExplicitVRLittleEndian).Image(1, 4, 1, 8, 8, 7, 0, "PALETTE COLOR")
			b = c.build(b).El(dcm.TagPixelData, "OB", []byte{0, 1, 2, 3})
			img, err := open(t, b)
			if err != nil {
				t.Fatal(err)
			}
			got, dt, err := img.FrameForViewer(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			if dt != c.dtype || !bytes.Equal(got, c.rgb) {
				t.Errorf("got %s % x, want %s % x", dt, got, c.dtype, c.rgb)
			}
			if s, err := img.Probe(ctx, 2, 0, 0); err != nil || s.Stored != 2 || s.Color {
				t.Errorf("probe of a palette image: %+v %v, want the index 2", s, err)
			}
		})
	}
	bad := pixeltest.New(dcm.ExplicitVRLittleEndian).Image(1, 1, 1, 8, 8, 7, 0, "PALETTE COLOR").
		US(dcm.TagRedPaletteDescriptor, 4, 0, 16).US(dcm.TagGreenPaletteDescriptor, 4, 0, 16).
		US(dcm.TagBluePaletteDescriptor, 4, 0, 16).
		OW(dcm.TagSegRedPaletteData, 2, 50, 0, 0).OW(dcm.TagSegGreenPaletteData, 9, 1).OW(dcm.TagSegBluePaletteData, 1, 3, 5).
		El(dcm.TagPixelData, "OB", []byte{0, 0})
	if _, err := open(t, bad); !errors.Is(err, ErrInvalidImage) {
		t.Errorf("bad segmented palette: %v", err)
	}
}

func TestFunctionalGroups(t *testing.T) {
	ctx := context.Background()
	pvt := pixeltest.Elem(TagPixelValueTransformation, "SQ", pixeltest.Item(
		pixeltest.Elem(dcm.TagRescaleIntercept, "DS", []byte("-10")),
		pixeltest.Elem(dcm.TagRescaleSlope, "DS", []byte("2"))))
	voi := func(c, w string) []byte {
		return pixeltest.Elem(TagFrameVOILUT, "SQ", pixeltest.Item(
			pixeltest.Elem(dcm.TagWindowCenter, "DS", []byte(c)), pixeltest.Elem(dcm.TagWindowWidth, "DS", []byte(w))))
	}
	b := pixeltest.New(dcm.ExplicitVRLittleEndian).Image(1, 2, 1, 8, 8, 7, 0, "MONOCHROME2").Frames(2).
		El(TagSharedFunctionalGroups, "SQ", pixeltest.Item(pvt)).
		El(TagPerFrameFunctionalGroups, "SQ", append(pixeltest.Item(voi("100", "200")), pixeltest.Item(voi("0", "50"))...)).
		El(dcm.TagPixelData, "OB", []byte{1, 2, 3, 4})
	img, err := open(t, b)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		x, frame int
		want     float64
	}{{0, 0, -8}, {1, 1, -2}} {
		if s, err := img.Probe(ctx, c.x, 0, c.frame); err != nil || s.Value != c.want {
			t.Errorf("probe %d,0,%d: %v %v, want %v", c.x, c.frame, s, err, c.want)
		}
	}
	for n, want := range []string{"100", "0"} {
		fg := img.FunctionalGroup(n, TagFrameVOILUT)
		if fg == nil || fg.Text(dcm.TagWindowCenter) != want {
			t.Errorf("frame %d VOI group %v, want centre %s", n, fg, want)
		}
	}
	if img.FunctionalGroup(0, dcm.TagModalityLUTSequence) != nil {
		t.Error("a functional group that is not there")
	}
}

func TestLossyClampedNotMasked(t *testing.T) {
	cases := []struct {
		signed bool
		in     []uint16
		want   []int64
	}{
		{false, []uint16{4149, 4095, 0, 100}, []int64{4095, 4095, 0, 100}},
		{true, []uint16{0xF000, 2100, 0xFFFF, 2047}, []int64{-2048, 2047, -1, 2047}},
	}
	for _, c := range cases {
		pr := 0
		if c.signed {
			pr = 1
		}
		b := pixeltest.New(dcm.JPEGExtended).Image(1, 4, 1, 16, 12, 11, pr, "MONOCHROME2").Encap(nil, u16le(c.in...))
		img, err := open(t, b, WithCodecs(Codecs{dcm.JPEGExtended: pixeltest.CopyCodec{}}))
		if err != nil {
			t.Fatal(err)
		}
		if got := frameValues(t, img, 0); !reflect.DeepEqual(got, c.want) {
			t.Errorf("signed %v: %v, want %v", c.signed, got, c.want)
		}
	}
}
