package render

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"image"
	"image/png"
	"math"
	"testing"

	"lightbox/backend/dcm"
	"lightbox/backend/pixel"
	"lightbox/backend/pixel/pixeltest"
)

func TestWindowFunctions(t *testing.T) {
	cases := []struct {
		w    Window
		x    float64
		want float64
	}{
		// LINEAR, PS3.3 C.11.2.1.2.1: c=40 w=400 -> [-160, 239] onto [0, 1]
		{Window{Center: 40, Width: 400}, -160, 0},
		{Window{Center: 40, Width: 400}, -159, (-159-39.5)/399 + 0.5},
		{Window{Center: 40, Width: 400}, 40, 0.5/399 + 0.5},
		{Window{Center: 40, Width: 400}, 239.5, 1},
		{Window{Center: 40, Width: 400, Function: "linear"}, 1000, 1},
		{Window{Center: 0, Width: 1}, 0, 1},
		{Window{Center: 0, Width: 1}, -0.5, 0},
		// LINEAR_EXACT, C.11.2.1.3.2
		{Window{Center: 40, Width: 400, Function: LinearExact}, 40, 0.5},
		{Window{Center: 40, Width: 400, Function: LinearExact}, -160, 0},
		{Window{Center: 40, Width: 400, Function: LinearExact}, 140, 0.75},
		{Window{Center: 40, Width: 400, Function: LinearExact}, 240.5, 1},
		// SIGMOID, C.11.2.1.3.1
		{Window{Center: 40, Width: 400, Function: Sigmoid}, 40, 0.5},
		{Window{Center: 40, Width: 400, Function: Sigmoid}, 240, 1 / (1 + math.Exp(-2))},
		{Window{Center: 40, Width: 400, Function: Sigmoid}, -160, 1 / (1 + math.Exp(2))},
	}
	for _, c := range cases {
		if got := c.w.apply(c.x); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%+v at %v: %v, want %v", c.w, c.x, got, c.want)
		}
	}
}

func TestFileWindows(t *testing.T) {
	b := pixeltest.New(dcm.ExplicitVRLittleEndian).
		Str(dcm.TagWindowCenter, "DS", `40\-600\50`).Str(dcm.TagWindowWidth, "DS", `400\1500`).
		Str(dcm.TagWindowExplanation, "LO", `SOFT\LUNG`).Str(dcm.TagVOILUTFunction, "CS", "SIGMOID")
	f, err := b.Parse()
	if err != nil {
		t.Fatal(err)
	}
	got := FileWindows(f.DataSet)
	want := []Window{{40, 400, Sigmoid, "SOFT"}, {-600, 1500, Sigmoid, "LUNG"}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("windows %+v, want %+v", got, want)
	}
}

func u16(v ...uint16) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint16(b, x)
	}
	return b
}

func openImage(t *testing.T, b *pixeltest.Builder) *pixel.Image {
	t.Helper()
	f, err := b.Parse()
	if err != nil {
		t.Fatal(err)
	}
	img, err := pixel.FromFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func voiItem(first int, bits int, data ...uint16) []byte {
	var item []byte
	item = pixeltest.AppendHeader(item, binary.LittleEndian, dcm.TagLUTDescriptor, "US", 6)
	item = append(item, u16(uint16(len(data)), uint16(first), uint16(bits))...)
	item = pixeltest.AppendHeader(item, binary.LittleEndian, dcm.TagLUTData, "OW", uint32(2*len(data)))
	item = append(item, u16(data...)...)
	seq := u16(0xFFFE, 0xE000)
	seq = binary.LittleEndian.AppendUint32(seq, uint32(len(item)))
	return append(seq, item...)
}

func TestRenderMono(t *testing.T) {
	ctx := context.Background()
	// stored 0, 100, 200, 300 with slope 2, intercept -200: modality -200, 0, 200, 400
	base := func(photometric string) *pixeltest.Builder {
		return pixeltest.New(dcm.ExplicitVRLittleEndian).Image(1, 4, 1, 16, 16, 15, 0, photometric)
	}
	px := u16(0, 100, 200, 300)
	cases := []struct {
		name  string
		build *pixeltest.Builder
		win   *Window
		want  []uint8
	}{
		{"explicit window over the rescale", base("MONOCHROME2").Str(dcm.TagRescaleIntercept, "DS", "-200").
			Str(dcm.TagRescaleSlope, "DS", "2").El(dcm.TagPixelData, "OW", px),
			&Window{Center: 100, Width: 400, Function: LinearExact}, []uint8{0, 64, 191, 255}},
		{"file window, MONOCHROME1 inverted", base("MONOCHROME1").Str(dcm.TagWindowCenter, "DS", "150").
			Str(dcm.TagWindowWidth, "DS", "300").Str(dcm.TagVOILUTFunction, "CS", "LINEAR_EXACT").El(dcm.TagPixelData, "OW", px),
			nil, []uint8{255, 170, 85, 0}},
		{"presentation LUT shape INVERSE", base("MONOCHROME2").Str(dcm.TagWindowCenter, "DS", "150").
			Str(dcm.TagWindowWidth, "DS", "300").Str(dcm.TagVOILUTFunction, "CS", "LINEAR_EXACT").
			Str(dcm.TagPresentationLUTShape, "CS", "INVERSE").El(dcm.TagPixelData, "OW", px),
			nil, []uint8{255, 170, 85, 0}},
		{"VOI LUT sequence", base("MONOCHROME2").El(dcm.TagVOILUTSequence, "SQ", voiItem(99, 8, 10, 20, 30)).
			El(dcm.TagPixelData, "OW", px),
			nil, []uint8{10, 20, 30, 30}},
		{"min/max window when the file has none", base("MONOCHROME2").El(dcm.TagPixelData, "OW", px),
			nil, []uint8{0, 85, 170, 255}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img := openImage(t, c.build)
			m, err := Render(ctx, img, 0, c.win)
			if err != nil {
				t.Fatal(err)
			}
			g, ok := m.(*image.Gray)
			if !ok {
				t.Fatalf("%T, want *image.Gray", m)
			}
			if !bytes.Equal(g.Pix, c.want) {
				t.Errorf("%v, want %v", g.Pix, c.want)
			}
		})
	}
	img := openImage(t, base("MONOCHROME2").El(dcm.TagPixelData, "OW", px))
	for _, w := range []Window{{Center: 0, Width: 0}, {Center: math.NaN(), Width: 10}, {Center: 0, Width: -5}, {Center: math.Inf(1), Width: 10}, {Center: 0, Width: math.Inf(1)}} {
		if _, err := Render(ctx, img, 0, &w); !errors.Is(err, ErrBadWindow) {
			t.Errorf("window %+v: %v", w, err)
		}
	}
}

func TestRenderColourAndOverlay(t *testing.T) {
	ctx := context.Background()
	pal := pixeltest.New(dcm.ExplicitVRLittleEndian).Image(1, 3, 1, 8, 8, 7, 0, "PALETTE COLOR").
		US(dcm.TagRedPaletteDescriptor, 3, 0, 16).US(dcm.TagGreenPaletteDescriptor, 3, 0, 16).
		US(dcm.TagBluePaletteDescriptor, 3, 0, 16).
		OW(dcm.TagRedPaletteData, 0, 0x8080, 0xFFFF).OW(dcm.TagGreenPaletteData, 0xFFFF, 0, 0).
		OW(dcm.TagBluePaletteData, 0, 0, 0x4040).El(dcm.TagPixelData, "OB", []byte{2, 1, 0})
	m, err := Render(ctx, openImage(t, pal), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []uint8{255, 0, 64, 255, 128, 0, 0, 255, 0, 255, 0, 255}
	if got := m.(*image.RGBA).Pix; !bytes.Equal(got, want) {
		t.Errorf("palette: %v, want %v", got, want)
	}
	// RGB 16-bit: full scale of BitsStored 12
	rgb := pixeltest.New(dcm.ExplicitVRLittleEndian).Image(1, 1, 3, 16, 12, 11, 0, "RGB").
		El(dcm.TagPixelData, "OW", u16(4095, 2048, 0))
	m, err = Render(ctx, openImage(t, rgb), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.(*image.RGBA).Pix; !bytes.Equal(got, []uint8{255, 128, 0, 255}) {
		t.Errorf("rgb16: %v", got)
	}
	// overlay 2x2 at row 1, column 2 (1-based) on a 3x3 black image:
	// bits 0 and 3 set -> pixels (x=1,y=0) and (x=2,y=1)
	ov := pixeltest.New(dcm.ExplicitVRLittleEndian).Image(3, 3, 1, 8, 8, 7, 0, "MONOCHROME2").
		Str(dcm.TagWindowCenter, "DS", "128").Str(dcm.TagWindowWidth, "DS", "256").
		US(dcm.NewTag(0x6002, 0x0010), 2).US(dcm.NewTag(0x6002, 0x0011), 2).Str(dcm.NewTag(0x6002, 0x0040), "CS", "G").
		El(dcm.NewTag(0x6002, 0x0050), "SS", u16(1, 2)).US(dcm.NewTag(0x6002, 0x0100), 1).US(dcm.NewTag(0x6002, 0x0102), 0).
		El(dcm.NewTag(0x6002, 0x3000), "OW", u16(0b1001)).
		El(dcm.TagPixelData, "OB", make([]byte, 9))
	img := openImage(t, ov)
	if ovs := Overlays(img); len(ovs) != 1 || ovs[0].Group != 0x6002 || !ovs[0].At(0, 1, 1) || ovs[0].At(0, 0, 1) {
		t.Fatalf("overlays %+v", ovs)
	}
	m, err = Render(ctx, img, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.(*image.Gray).Pix; !bytes.Equal(got, []uint8{0, 255, 0, 0, 0, 255, 0, 0, 0}) {
		t.Errorf("overlay burnt in: %v", got)
	}
	m, _ = Render(ctx, img, 0, nil, WithOverlays(false))
	if got := m.(*image.Gray).Pix; !bytes.Equal(got, make([]uint8, 9)) {
		t.Errorf("overlays off: %v", got)
	}
}

func TestFit(t *testing.T) {
	g := &image.Gray{Pix: []uint8{0, 100, 200, 255, 10, 110, 210, 255}, Stride: 4, Rect: image.Rect(0, 0, 4, 2)}
	small := Fit(g, 2).(*image.Gray) // 4x2 -> 2x1: means of 2x2 blocks
	if small.Rect.Dx() != 2 || small.Rect.Dy() != 1 || !bytes.Equal(small.Pix, []uint8{55, 230}) {
		t.Errorf("shrunk %v %v", small.Rect, small.Pix)
	}
	third := &image.Gray{Pix: []uint8{0, 30, 60}, Stride: 3, Rect: image.Rect(0, 0, 3, 1)}
	two := Fit(third, 2).(*image.Gray) // 1.5 pixels each: (0+15)/1.5=10, (15+60)/1.5=50
	if !bytes.Equal(two.Pix, []uint8{10, 50}) {
		t.Errorf("fractional coverage %v", two.Pix)
	}
	big := Fit(&image.Gray{Pix: []uint8{7, 9}, Stride: 2, Rect: image.Rect(0, 0, 2, 1)}, 4).(*image.Gray)
	if big.Rect.Dx() != 4 || big.Rect.Dy() != 2 || !bytes.Equal(big.Pix, []uint8{7, 7, 9, 9, 7, 7, 9, 9}) {
		t.Errorf("enlarged %v %v", big.Rect, big.Pix)
	}
}

func TestPNGOutputs(t *testing.T) {
	ctx := context.Background()
	img := openImage(t, pixeltest.New(dcm.ExplicitVRLittleEndian).Image(2, 4, 1, 8, 8, 7, 0, "MONOCHROME2").Frames(3).
		El(dcm.TagPixelData, "OB", bytes.Repeat([]byte{0, 50, 100, 250}, 6)))
	b, err := RenderPNG(ctx, img, 2, &Window{Center: 128, Width: 256})
	if err != nil {
		t.Fatal(err)
	}
	m, err := png.Decode(bytes.NewReader(b))
	if err != nil || m.Bounds() != image.Rect(0, 0, 4, 2) {
		t.Fatalf("png %v %v", m, err)
	}
	b, err = Thumbnail(ctx, img, 96)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := png.Decode(bytes.NewReader(b)); err != nil || m.Bounds() != image.Rect(0, 0, 96, 48) {
		t.Fatalf("thumbnail %v %v", m.Bounds(), err)
	}
	if _, err := Thumbnail(ctx, img, 0); err == nil {
		t.Error("thumbnail size 0 accepted")
	}
	if _, err := RenderPNG(ctx, img, 3, nil); !errors.Is(err, pixel.ErrFrameRange) {
		t.Errorf("frame 3 of 3: %v", err)
	}
	if m, err := png.Decode(bytes.NewReader(Placeholder(64))); err != nil || m.Bounds().Dx() != 64 {
		t.Errorf("placeholder: %v", err)
	}
}

func TestFrameWindows(t *testing.T) {
	voi := func(c, w string) []byte {
		return pixeltest.Item(pixeltest.Elem(pixel.TagFrameVOILUT, "SQ", pixeltest.Item(
			pixeltest.Elem(dcm.TagWindowCenter, "DS", []byte(c)), pixeltest.Elem(dcm.TagWindowWidth, "DS", []byte(w)))))
	}
	img := openImage(t, pixeltest.New(dcm.ExplicitVRLittleEndian).Image(1, 2, 1, 8, 8, 7, 0, "MONOCHROME2").Frames(2).
		El(pixel.TagPerFrameFunctionalGroups, "SQ", append(voi("100", "200"), voi("3", "2")...)).
		El(dcm.TagPixelData, "OB", []byte{1, 2, 3, 4}))
	for n, want := range []Window{{Center: 100, Width: 200}, {Center: 3, Width: 2}} {
		if got := FrameWindows(img, n); len(got) != 1 || got[0] != want {
			t.Errorf("frame %d: %+v, want %+v", n, got, want)
		}
	}
	// frame 1 rendered with its own window: 3 -> (3-2.5)/1+0.5 = 1, 4 -> 1
	m, err := Render(context.Background(), img, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.(*image.Gray).Pix; !bytes.Equal(got, []uint8{255, 255}) {
		t.Errorf("frame 1: %v", got)
	}
	m, _ = Render(context.Background(), img, 0, nil)
	// frame 0, c=100 w=200: 1 -> (1-99.5)/199+0.5 = 0.005 (1.3), 2 -> 0.010 (2.6)
	if got := m.(*image.Gray).Pix; !bytes.Equal(got, []uint8{1, 3}) {
		t.Errorf("frame 0: %v", got)
	}
}

func TestMinMaxWithoutPadding(t *testing.T) {
	// -2000 is padding: the min/max window spans 0..300 only
	img := openImage(t, pixeltest.New(dcm.ExplicitVRLittleEndian).Image(1, 5, 1, 16, 16, 15, 1, "MONOCHROME2").
		El(dcm.NewTag(0x0028, 0x0120), "SS", u16(0xF830)).
		El(dcm.TagPixelData, "OW", u16(0xF830, 0, 100, 200, 300)))
	m, err := Render(context.Background(), img, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.(*image.Gray).Pix; !bytes.Equal(got, []uint8{0, 0, 85, 170, 255}) {
		t.Errorf("%v", got)
	}
	all := openImage(t, pixeltest.New(dcm.ExplicitVRLittleEndian).Image(1, 2, 1, 16, 16, 15, 1, "MONOCHROME2").
		El(dcm.NewTag(0x0028, 0x0120), "SS", u16(0xF830)).El(dcm.TagPixelData, "OW", u16(0xF830, 0xF830)))
	if m, err := Render(context.Background(), all, 0, nil); err != nil || !bytes.Equal(m.(*image.Gray).Pix, []uint8{0, 0}) {
		t.Errorf("all padding: %v", err)
	}
}
