package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"lightbox/backend/dcm"
	"lightbox/backend/pixel"
)

// Every decodable corpus image converts to Explicit and Implicit VR LE;
// the result parses, keeps every attribute the source has (but the
// changed ones) and decodes to the corpus pixel checksum.
func TestTranscodeCorpus(t *testing.T) {
	codecs := pixel.DefaultCodecs()
	dir := t.TempDir()
	n := 0
	for _, r := range imageRows(t, false) {
		if len(r["pixel_sha256"]) != 64 || r["lossy"] == "1" || (r["kind"] == "ct" && r["instance"] != "1") || r["kind"] == "mr" {
			continue
		}
		for _, target := range []string{dcm.ExplicitVRLittleEndian, dcm.ImplicitVRLittleEndian} {
			var buf bytes.Buffer
			if err := Transcode(context.Background(), &buf, r["abspath"], target, codecs); err != nil {
				t.Errorf("%s → %s: %v", r["path"], target, err)
				continue
			}
			src, err := dcm.ParseFile(r["abspath"], dcm.Options{})
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "x.dcm")
			os.WriteFile(out, append(dcm.AppendMeta(nil, dcm.MetaInfo{SOPClassUID: "1.2", SOPInstanceUID: "1.2.3",
				TransferSyntaxUID: target, ImplementationClassUID: "1.2"}), buf.Bytes()...), 0o644)
			got, err := dcm.ParseFile(out, dcm.Options{})
			if err != nil {
				t.Errorf("%s → %s: does not parse: %v", r["path"], target, err)
				src.Close()
				continue
			}
			if len(got.Warnings) > 0 {
				t.Errorf("%s → %s: %v", r["path"], target, got.Warnings)
			}
			for _, e := range src.DataSet.Elements {
				if e.Tag.Element() == 0 || e.Tag == dcm.TagExtendedOffsetTable || e.Tag == dcm.TagExtendedOffsetLengths {
					continue
				}
				g := got.DataSet.Get(e.Tag)
				if g == nil {
					t.Errorf("%s → %s: %s lost", r["path"], target, e.Tag)
					continue
				}
				if e.Value != nil && e.VR != "UN" && !src.TransferSyntax.BigEndian && e.Tag != dcm.TagPhotometric && e.Tag != dcm.TagPlanarConfiguration && !bytes.Equal(e.Value, g.Value) {
					t.Errorf("%s → %s: %s value changed", r["path"], target, e.Tag)
				}
			}
			src.Close()
			img, err := pixel.FromFile(got)
			if err != nil {
				t.Errorf("%s → %s: %v", r["path"], target, err)
				got.Close()
				continue
			}
			h := sha256.New()
			if err := img.Canonical(context.Background(), h); err != nil {
				t.Error(err)
			}
			if g := hex.EncodeToString(h.Sum(nil)); g != r["pixel_sha256"] {
				t.Errorf("%s → %s: pixels %s, want %s", r["path"], target, g, r["pixel_sha256"])
			}
			if img.Info.PlanarConfiguration != 0 && src.TransferSyntax.Encapsulated {
				t.Errorf("%s: planar %d", r["path"], img.Info.PlanarConfiguration)
			}
			got.Close()
			n++
		}
	}
	if n < 100 {
		t.Errorf("only %d conversions", n)
	}
}

func TestTranscodeErrors(t *testing.T) {
	p, _, _ := ctFile(t, 1)
	var buf bytes.Buffer
	tests := []struct {
		path, target string
		want         error
	}{
		{p, dcm.JPEGBaseline, ErrCannotConvert},
		{p, dcm.ExplicitVRBigEndian, ErrCannotConvert},
		{filepath.Join(dimsetestCorpus(t), "images", "ct", "jpegls-lossless", "ct_jpegls-lossless_01.dcm"), dcm.ExplicitVRLittleEndian, nil},
	}
	for _, tc := range tests {
		err := Transcode(context.Background(), &buf, tc.path, tc.target, pixel.Codecs{})
		if tc.want == nil {
			// no codec in the table: the instance cannot be converted
			if !errors.Is(err, ErrCannotConvert) {
				t.Errorf("empty codec table: %v", err)
			}
			continue
		}
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v", tc.target, err)
		}
	}
}

func FuzzReadPart10Header(f *testing.F) {
	for _, r := range imageRows(f, true)[:20] {
		b, _ := os.ReadFile(r["abspath"])
		f.Add(b[:min(len(b), 600)])
	}
	f.Add([]byte("DICM"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ReadPart10Header(bytes.NewReader(b), int64(len(b)))
		if err == nil && (h.DataSetOffset > int64(len(b)) || h.TransferSyntaxUID == "") {
			t.Fatalf("%+v for %d bytes", h, len(b))
		}
	})
}

func FuzzTranscode(f *testing.F) {
	for _, r := range imageRows(f, true) {
		if r["kind"] == "sc8" || r["kind"] == "odd" {
			b, _ := os.ReadFile(r["abspath"])
			f.Add(b)
		}
	}
	codecs := pixel.DefaultCodecs()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "f.dcm")
		os.WriteFile(p, b, 0o644)
		var buf bytes.Buffer
		Transcode(context.Background(), &buf, p, dcm.ImplicitVRLittleEndian, codecs)
		Transcode(context.Background(), &buf, p, dcm.ExplicitVRLittleEndian, codecs)
	})
}
