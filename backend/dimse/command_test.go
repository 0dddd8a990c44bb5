package dimse

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// Command sets captured from DCMTK 3.6.7 (echoscu -> storescp), Implicit VR
// Little Endian, element by element.
var (
	echoRQFromEchoscu = strings.Join([]string{
		"00000000", "04000000", "38000000", // (0000,0000) UL len 4 = 56
		"00000200", "12000000", "312e322e3834302e31303030382e312e3100", // (0000,0002) UI len 18 "1.2.840.10008.1.1\0"
		"00000001", "02000000", "3000", // (0000,0100) US C-ECHO-RQ
		"00001001", "02000000", "0100", // (0000,0110) US message ID 1
		"00000008", "02000000", "0101", // (0000,0800) US 0x0101 no data set
	}, "")
	echoRSPFromStorescp = strings.Join([]string{
		"00000000", "04000000", "42000000", // group length 66
		"00000200", "12000000", "312e322e3834302e31303030382e312e3100",
		"00000001", "02000000", "3080", // C-ECHO-RSP
		"00002001", "02000000", "0100", // (0000,0120) responded to 1
		"00000008", "02000000", "0101",
		"00000009", "02000000", "0000", // (0000,0900) status success
	}, "")
)

func mustHex(t testing.TB, s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCommandFixtures(t *testing.T) {
	cases := []struct {
		name string
		hex  string
		want Command
	}{
		{"C-ECHO-RQ from echoscu", echoRQFromEchoscu, Command{Field: CEchoRQ, MessageID: 1, AffectedSOPClassUID: VerificationSOPClass}},
		{"C-ECHO-RSP from storescp", echoRSPFromStorescp, Command{Field: CEchoRSP, MessageIDBeingRespondedTo: 1, AffectedSOPClassUID: VerificationSOPClass, Status: StatusSuccess}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := mustHex(t, tc.hex)
			c, err := DecodeCommand(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*c, tc.want) {
				t.Fatalf("decoded %+v\nwant    %+v", *c, tc.want)
			}
			enc, err := c.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(enc, b) {
				t.Fatalf("encoded %x\nwant    %x", enc, b)
			}
		})
	}
}

func TestCommandRoundTrip(t *testing.T) {
	cases := []Command{
		{Field: CStoreRQ, MessageID: 7, AffectedSOPClassUID: "1.2.840.10008.5.1.4.1.1.2", AffectedSOPInstanceUID: "1.2.3.4.5", Priority: PriorityHigh,
			HasDataSet: true, MoveOriginatorAE: "ORTHANC", MoveOriginatorMessageID: Some(3)},
		{Field: CStoreRSP, MessageIDBeingRespondedTo: 7, AffectedSOPClassUID: "1.2.840.10008.5.1.4.1.1.2", AffectedSOPInstanceUID: "1.2.3.4.5",
			Status: StatusDataSetMismatch, ErrorComment: "bad", OffendingElement: []uint32{0x00100010, 0x7FE00010}},
		{Field: CFindRQ, MessageID: 65535, AffectedSOPClassUID: "1.2.840.10008.5.1.4.1.2.2.1", HasDataSet: true},
		{Field: CFindRSP, MessageIDBeingRespondedTo: 65535, AffectedSOPClassUID: "1.2.840.10008.5.1.4.1.2.2.1", Status: StatusPending, HasDataSet: true},
		{Field: CMoveRQ, MessageID: 2, AffectedSOPClassUID: "1.2.840.10008.5.1.4.1.2.2.2", MoveDestination: "LIGHTBOX", Priority: PriorityLow, HasDataSet: true},
		{Field: CMoveRSP, MessageIDBeingRespondedTo: 2, Status: StatusWarningCoercion, Remaining: Some(0), Completed: Some(10), Failed: Some(1), Warning: Some(0), ErrorID: Some(9)},
		{Field: CGetRSP, MessageIDBeingRespondedTo: 4, Status: StatusPending, Remaining: Some(5), Completed: Some(1), Failed: Some(0), Warning: Some(0)},
		{Field: CCancelRQ, MessageIDBeingRespondedTo: 2},
		{Field: CEchoRQ, MessageID: 1, AffectedSOPClassUID: VerificationSOPClass, Other: []Element{{Tag: 0x00000800 + 1, Value: []byte{1, 2}}}},
	}
	for _, c := range cases {
		t.Run(c.Field.String(), func(t *testing.T) {
			b, err := c.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if len(b)%2 != 0 {
				t.Fatalf("odd length %d", len(b))
			}
			got, err := DecodeCommand(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, c) {
				t.Fatalf("round trip\n got %+v\nwant %+v", *got, c)
			}
			// group length counts every byte after it
			if gl := int(b[8]) | int(b[9])<<8 | int(b[10])<<16 | int(b[11])<<24; gl != len(b)-12 {
				t.Fatalf("group length %d, %d bytes follow", gl, len(b)-12)
			}
		})
	}
}

func TestCommandErrors(t *testing.T) {
	rq := mustHex(t, echoRQFromEchoscu)
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"no command field", mustHex(t, "0000100102000000"+"0100"+"0000000802000000"+"0101"), ErrBadCommand},
		{"element beyond end", append(append([]byte{}, rq[:len(rq)-2]...), 0), ErrBadCommand},
		{"element length 4 GB", mustHex(t, "00000001ffffffff3000"), ErrBadCommand},
		{"group 0008 element", append(append([]byte{}, rq...), mustHex(t, "08001800020000003100")...), ErrBadCommand},
		{"US of 4 bytes", mustHex(t, "00000001040000003000000000001001020000000100"), ErrBadCommand},
		{"response without status", mustHex(t, "00000001020000003080"+"00002001020000000100"+"00000008020000000101"), ErrBadCommand},
		{"request without message ID", mustHex(t, "00000001020000003000"+"00000008020000000101"), ErrBadCommand},
		{"too large", make([]byte, MaxCommandLength+1), ErrCommandTooLarge},
		{"trailing bytes", append(append([]byte{}, rq...), 1, 2, 3), ErrBadCommand},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := DecodeCommand(tc.b); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	long := Command{Field: CEchoRQ, MessageID: 1, AffectedSOPClassUID: strings.Repeat("1", 65)}
	if _, err := long.Encode(); !errors.Is(err, ErrBadCommand) {
		t.Fatalf("65-char UID: %v", err)
	}
}

func TestStatusTable(t *testing.T) {
	cases := []struct {
		s       Status
		class   StatusClass
		meaning string
	}{
		{0x0000, ClassSuccess, "success"},
		{0xFF00, ClassPending, "pending"},
		{0xFF01, ClassPending, "pending, optional keys not supported"},
		{0xFE00, ClassCancel, "cancelled"},
		{0x0001, ClassWarning, "requested optional attributes not supported"},
		{0xB000, ClassWarning, "coercion of data elements / sub-operations complete with failures"},
		{0xB007, ClassWarning, "data set does not match SOP class"},
		{0xB123, ClassWarning, "warning"},
		{0x0107, ClassWarning, "attribute list error"},
		{0xA700, ClassFailure, "refused: out of resources"},
		{0xA7FF, ClassFailure, "refused: out of resources"},
		{0xA702, ClassFailure, "refused: out of resources, unable to perform sub-operations"},
		{0xA801, ClassFailure, "refused: move destination unknown"},
		{0xA900, ClassFailure, "error: data set does not match SOP class"},
		{0xA9AB, ClassFailure, "error: data set does not match SOP class"},
		{0xC000, ClassFailure, "error: cannot understand"},
		{0xCFFF, ClassFailure, "error: cannot understand"},
		{0x0122, ClassFailure, "refused: SOP class not supported"},
		{0x0124, ClassFailure, "refused: not authorized"},
		{0x0110, ClassFailure, "processing failure"},
		{0x0211, ClassFailure, "unrecognized operation"},
		{0x1234, ClassFailure, "unknown status"},
	}
	for _, tc := range cases {
		if tc.s.Class() != tc.class || tc.s.Meaning() != tc.meaning {
			t.Errorf("0x%04X: %s %q, want %s %q", uint16(tc.s), tc.s.Class(), tc.s.Meaning(), tc.class, tc.meaning)
		}
	}
	if got := StatusWarningCoercion.MeaningFor(CMoveRSP); got != "sub-operations complete, one or more failures or warnings" {
		t.Errorf("B000 for C-MOVE: %q", got)
	}
	if got := StatusWarningCoercion.MeaningFor(CStoreRSP); got != "coercion of data elements" {
		t.Errorf("B000 for C-STORE: %q", got)
	}
	if got := StatusDataSetMismatch.String(); got != "0xA900 Failure (error: data set does not match SOP class)" {
		t.Errorf("String %q", got)
	}
	if !StatusWarningCoercion.OK() || StatusOutOfResources.OK() || !StatusPending.IsPending() || StatusCancel.IsPending() {
		t.Error("OK/IsPending")
	}
}

// FuzzCommandSet: no panic, bounded work, and a decoded command set encodes
// and decodes to a fixed point.
func FuzzCommandSet(f *testing.F) {
	f.Add(mustHex(f, echoRQFromEchoscu))
	f.Add(mustHex(f, echoRSPFromStorescp))
	for _, c := range []Command{
		{Field: CMoveRSP, MessageIDBeingRespondedTo: 2, Status: StatusPending, Remaining: Some(3), Completed: Some(1), Failed: Some(0), Warning: Some(0)},
		{Field: CStoreRQ, MessageID: 7, AffectedSOPClassUID: "1.2.840.10008.5.1.4.1.1.2", AffectedSOPInstanceUID: "1.2.3", HasDataSet: true, MoveOriginatorAE: "X", MoveOriginatorMessageID: Some(1)},
		{Field: CStoreRSP, MessageIDBeingRespondedTo: 7, Status: 0xA900, ErrorComment: "x", OffendingElement: []uint32{0x00100010}},
	} {
		b, _ := c.Encode()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeCommand(b)
		if err != nil {
			if !errors.Is(err, ErrBadCommand) && !errors.Is(err, ErrCommandTooLarge) {
				t.Fatalf("unexpected error kind %v", err)
			}
			return
		}
		_ = c.String()
		enc, err := c.Encode()
		if err != nil {
			return // e.g. a UID longer than 64 characters: we refuse to send it
		}
		c2, err := DecodeCommand(enc)
		if err != nil {
			t.Fatalf("re-encoded command set does not decode: %v", err)
		}
		enc2, err := c2.Encode()
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("not a fixed point: %v\n%x\n%x", err, enc, enc2)
		}
	})
}
