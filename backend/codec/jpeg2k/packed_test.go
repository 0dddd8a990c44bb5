package jpeg2k

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"lightbox/backend/codec"
)

// repack moves the packet headers of a one-tile, one-tile-part codestream
// into PPT (ppm false) or PPM (ppm true) marker segments, as T.800 A.7.4
// and A.7.5 allow, leaving only the packet bodies after SOD.
func repack(t *testing.T, cs []byte, p codec.Params, ppm bool) []byte {
	t.Helper()
	var headers, bodies []byte
	d := Decoder{packetTrace: func(tile, hs, he, bs, be int) {}}
	h, sot, err := parseMainHeader(cs)
	if err != nil {
		t.Fatal(err)
	}
	tiles, err := parseTileParts(cs, sot, h)
	if err != nil {
		t.Fatal(err)
	}
	if len(tiles) != 1 || len(tiles[0].parts) != 1 {
		t.Fatalf("repack needs one tile-part, have %d tiles", len(tiles))
	}
	body := tiles[0].parts[0].data
	d.packetTrace = func(tile, hs, he, bs, be int) {
		headers = append(headers, body[hs:he]...)
		bodies = append(bodies, body[bs:be]...)
	}
	if err := d.Decode(cs, p, make([]byte, p.FrameSize())); err != nil {
		t.Fatal(err)
	}
	// marker segments of at most 65535 bytes carrying payload
	segments := func(marker uint16, payload []byte) []byte {
		var out []byte
		for z := 0; len(payload) > 0; z++ {
			n := min(len(payload), 65000)
			out = binary.BigEndian.AppendUint16(out, marker)
			out = binary.BigEndian.AppendUint16(out, uint16(3+n))
			out = append(out, byte(z))
			out = append(out, payload[:n]...)
			payload = payload[n:]
		}
		return out
	}
	var out []byte
	out = append(out, cs[:sot]...)
	var tileHdr []byte
	if ppm {
		payload := binary.BigEndian.AppendUint32(nil, uint32(len(headers)))
		out = append(out, segments(0xFF60, append(payload, headers...))...)
	} else {
		tileHdr = segments(0xFF61, headers)
	}
	psot := 12 + len(tileHdr) + 2 + len(bodies)
	out = append(out, 0xFF, 0x90, 0, 10, 0, 0)
	out = binary.BigEndian.AppendUint32(out, uint32(psot))
	out = append(out, 0, 1)
	out = append(out, tileHdr...)
	out = append(out, 0xFF, 0x93)
	out = append(out, bodies...)
	return append(out, 0xFF, 0xD9)
}

func TestPackedPacketHeaders(t *testing.T) {
	type input struct {
		name string
		cs   []byte
		p    codec.Params
	}
	var inputs []input
	for _, f := range corpusJ2K(t) {
		switch f.row["path"] {
		case "images/ct/j2k-lossless/ct_j2k-lossless_05.dcm", "images/us/us_j2k-lossless.dcm", "images/mr/j2k/mr_j2k_03.dcm":
			inputs = append(inputs, input{f.row["path"], f.frames[0], f.params})
		}
	}
	if len(inputs) != 3 {
		t.Fatalf("corpus inputs missing: %d", len(inputs))
	}
	if bin, err := exec.LookPath("opj_compress"); err == nil {
		// layers, precincts, SOP and EPH markers
		dir := t.TempDir()
		img := stressImage(70, 50, 3, 8, false, 99)
		in, out := filepath.Join(dir, "in.rawl"), filepath.Join(dir, "out.j2k")
		if err := writeRawl(in, img, 8); err != nil {
			t.Fatal(err)
		}
		args := []string{"-i", in, "-o", out, "-F", "70,50,3,8,u", "-n", "3", "-r", "20,6,1", "-c", "[16,16]", "-SOP", "-EPH", "-p", "RPCL"}
		if msg, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("opj_compress: %v\n%s", err, msg)
		}
		cs, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, input{"opj-sop-eph-layers", cs, codec.Params{Rows: 50, Columns: 70, SamplesPerPixel: 3, BitsAllocated: 8, BitsStored: 8}})
	}
	var d Decoder
	for _, in := range inputs {
		want := make([]byte, in.p.FrameSize())
		if err := d.Decode(in.cs, in.p, want); err != nil {
			t.Fatal(err)
		}
		for _, ppm := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/ppm=%v", in.name, ppm), func(t *testing.T) {
				re := repack(t, in.cs, in.p, ppm)
				if bytes.Equal(re, in.cs) {
					t.Fatal("repack changed nothing")
				}
				marker := []byte{0xFF, 0x61}
				if ppm {
					marker = []byte{0xFF, 0x60}
				}
				if !bytes.Contains(re, marker) {
					t.Fatal("no PPM/PPT marker written")
				}
				got := make([]byte, in.p.FrameSize())
				if err := d.Decode(re, in.p, got); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Fatal("decoded differently with packed packet headers")
				}
			})
		}
	}
}
