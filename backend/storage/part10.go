package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"lightbox/backend/dcm"
)

// ErrNotPart10 is returned for a file whose data set cannot be located.
var ErrNotPart10 = errors.New("not a readable DICOM Part 10 file")

// maxMetaBytes bounds the File Meta group we are willing to read.
const maxMetaBytes = 64 << 10

// Part10Header is what the sender needs of a stored file: its transfer
// syntax and where the data set starts (in the file, before any
// inflation).
type Part10Header struct {
	TransferSyntaxUID string
	DataSetOffset     int64
	Size              int64
}

// ReadPart10Header reads the File Meta group of a Part 10 file (preamble,
// "DICM", group 0002 in Explicit VR LE). Every length is checked against
// maxMetaBytes and the file size before use.
func ReadPart10Header(f io.ReaderAt, size int64) (Part10Header, error) {
	h := Part10Header{Size: size}
	if size < 132+8 {
		return h, fmt.Errorf("%w: %d bytes", ErrNotPart10, size)
	}
	// Read what the group length announces (plus the next element's tag),
	// or up to maxMetaBytes when it is missing or wrong.
	var head [144]byte
	if _, err := f.ReadAt(head[:min(size, 144)], 0); err != nil && !errors.Is(err, io.EOF) {
		return h, err
	}
	if string(head[128:132]) != "DICM" {
		return h, fmt.Errorf("%w: no DICM prefix", ErrNotPart10)
	}
	n := min(size, maxMetaBytes+132)
	if size >= 144 && string(head[132:138]) == "\x02\x00\x00\x00UL" && binary.LittleEndian.Uint16(head[138:]) == 4 {
		if gl := int64(binary.LittleEndian.Uint32(head[140:])); gl <= maxMetaBytes {
			n = min(size, 144+gl+8)
		}
	}
	b, err := readMeta(f, n)
	if err != nil {
		return h, err
	}
	if end := metaEnd(b); end+8 > len(b) && int64(len(b)) < min(size, maxMetaBytes+132) {
		// the group length was wrong: read the whole allowance
		if b, err = readMeta(f, min(size, maxMetaBytes+132)); err != nil {
			return h, err
		}
	}
	p := 132
	for p+8 <= len(b) && binary.LittleEndian.Uint16(b[p:]) == 0x0002 {
		elem := binary.LittleEndian.Uint16(b[p+2:])
		vr := string(b[p+4 : p+6])
		var l, hdr int
		switch vr {
		case "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV":
			if p+12 > len(b) {
				return h, fmt.Errorf("%w: truncated file meta", ErrNotPart10)
			}
			l, hdr = int(binary.LittleEndian.Uint32(b[p+8:])), 12
		default:
			l, hdr = int(binary.LittleEndian.Uint16(b[p+6:])), 8
		}
		if l < 0 || l > len(b)-p-hdr {
			return h, fmt.Errorf("%w: file meta element (0002,%04X) runs past the meta limit", ErrNotPart10, elem)
		}
		if elem == 0x0010 {
			h.TransferSyntaxUID = string(bytes.TrimRight(b[p+hdr:p+hdr+l], "\x00 "))
		}
		p += hdr + l
	}
	if h.TransferSyntaxUID == "" {
		return h, fmt.Errorf("%w: no transfer syntax in the file meta", ErrNotPart10)
	}
	if _, ok := dcm.LookupTS(h.TransferSyntaxUID); !ok {
		return h, fmt.Errorf("%w: unknown transfer syntax %s", ErrNotPart10, h.TransferSyntaxUID)
	}
	h.DataSetOffset = int64(p)
	return h, nil
}

// readHeaderFile opens path and reads its header.
func readHeaderFile(path string) (*os.File, Part10Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, Part10Header{}, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, Part10Header{}, err
	}
	h, err := ReadPart10Header(f, st.Size())
	if err != nil {
		f.Close()
		return nil, h, err
	}
	return f, h, nil
}

func readMeta(f io.ReaderAt, n int64) ([]byte, error) {
	b := make([]byte, n)
	if _, err := f.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return b, nil
}

// metaEnd returns where the group 0002 elements found in b end (b's length
// when they run to its end or past it).
func metaEnd(b []byte) int {
	p := 132
	for p+8 <= len(b) && binary.LittleEndian.Uint16(b[p:]) == 0x0002 {
		l, hdr := int(binary.LittleEndian.Uint16(b[p+6:])), 8
		if longVRName(string(b[p+4 : p+6])) {
			if p+12 > len(b) {
				return len(b)
			}
			l, hdr = int(binary.LittleEndian.Uint32(b[p+8:])), 12
		}
		if l < 0 || l > len(b)-p-hdr {
			return len(b)
		}
		p += hdr + l
	}
	if p+8 > len(b) {
		return len(b)
	}
	return p
}
