package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"testing"

	"lightbox/backend/dcm"
)

func TestReadPart10Header(t *testing.T) {
	p, _, ds := ctFile(t, 1)
	file, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	good := dcm.AppendMeta(nil, dcm.MetaInfo{SOPClassUID: ctImage, SOPInstanceUID: "1.2.3", TransferSyntaxUID: dcm.JPEGLSLossless,
		ImplementationClassUID: "1.2.4", ImplementationVersion: "X", SourceAE: "ME"})
	wrongGL := append([]byte(nil), good...)
	binary.LittleEndian.PutUint32(wrongGL[140:], 10) // group length too short
	noGL := append(append([]byte(nil), good[:132]...), good[144:]...)
	body := []byte("\x08\x00\x16\x00UI\x02\x001\x00")
	unknown := dcm.AppendMeta(nil, dcm.MetaInfo{SOPClassUID: ctImage, SOPInstanceUID: "1.2.3", TransferSyntaxUID: "1.2.3.4.5", ImplementationClassUID: "1"})
	tests := []struct {
		name   string
		b      []byte
		ts     string
		offset int
		err    error
	}{
		{"corpus file", file, dcm.ExplicitVRLittleEndian, len(file) - len(ds), nil},
		{"our own meta", append(good, body...), dcm.JPEGLSLossless, len(good), nil},
		{"wrong group length", append(wrongGL, body...), dcm.JPEGLSLossless, len(good), nil},
		{"no group length", append(noGL, body...), dcm.JPEGLSLossless, len(noGL), nil},
		{"no DICM", append(make([]byte, 200), body...), "", 0, ErrNotPart10},
		{"truncated", good[:150], "", 0, ErrNotPart10},
		{"unknown TS", append(unknown, body...), "", 0, ErrNotPart10},
		{"empty", nil, "", 0, ErrNotPart10},
	}
	for _, tc := range tests {
		h, err := ReadPart10Header(bytes.NewReader(tc.b), int64(len(tc.b)))
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("%s: %v, want %v", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || h.TransferSyntaxUID != tc.ts || h.DataSetOffset != int64(tc.offset) {
			t.Errorf("%s: %+v %v, want %s at %d", tc.name, h, err, tc.ts, tc.offset)
		}
	}
}
