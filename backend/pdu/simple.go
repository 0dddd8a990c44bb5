package pdu

import (
	"encoding/binary"
	"fmt"
	"io"
	"strings"
)

// RejectResult is the Result field of an A-ASSOCIATE-RJ.
type RejectResult uint8

// RejectSource is the Source field of an A-ASSOCIATE-RJ.
type RejectSource uint8

// A-ASSOCIATE-RJ results and sources (PS3.8 table 9-21).
const (
	RejectPermanent RejectResult = 1
	RejectTransient RejectResult = 2

	SourceServiceUser                 RejectSource = 1
	SourceServiceProviderACSE         RejectSource = 2
	SourceServiceProviderPresentation RejectSource = 3
)

// Reject reasons, meaningful with their source.
const (
	// source 1 (service-user)
	ReasonNoReasonGiven          uint8 = 1
	ReasonAppContextNotSupported uint8 = 2
	ReasonCallingAENotRecognized uint8 = 3
	ReasonCalledAENotRecognized  uint8 = 7
	// source 2 (service-provider, ACSE related)
	ReasonACSENoReasonGiven           uint8 = 1
	ReasonProtocolVersionNotSupported uint8 = 2
	// source 3 (service-provider, presentation related)
	ReasonTemporaryCongestion uint8 = 1
	ReasonLocalLimitExceeded  uint8 = 2
)

// AssociateRJ is an A-ASSOCIATE-RJ PDU (PS3.8 9.3.4).
type AssociateRJ struct {
	Result RejectResult
	Source RejectSource
	Reason uint8
}

// Type implements PDU.
func (*AssociateRJ) Type() Type { return TypeAssociateRJ }

// AppendTo implements PDU.
func (p *AssociateRJ) AppendTo(b []byte) ([]byte, error) {
	return append(b, byte(TypeAssociateRJ), 0, 0, 0, 0, 4, 0, byte(p.Result), byte(p.Source), p.Reason), nil
}

func (r RejectResult) String() string {
	switch r {
	case RejectPermanent:
		return "permanent"
	case RejectTransient:
		return "transient"
	}
	return fmt.Sprintf("result %d", uint8(r))
}

func (s RejectSource) String() string {
	switch s {
	case SourceServiceUser:
		return "service-user"
	case SourceServiceProviderACSE:
		return "service-provider (ACSE)"
	case SourceServiceProviderPresentation:
		return "service-provider (presentation)"
	}
	return fmt.Sprintf("source %d", uint8(s))
}

// ReasonString is the reason in the standard's words, e.g.
// "called AE title not recognised".
func (p *AssociateRJ) ReasonString() string {
	switch p.Source {
	case SourceServiceUser:
		switch p.Reason {
		case ReasonNoReasonGiven:
			return "no reason given"
		case ReasonAppContextNotSupported:
			return "application context name not supported"
		case ReasonCallingAENotRecognized:
			return "calling AE title not recognised"
		case ReasonCalledAENotRecognized:
			return "called AE title not recognised"
		}
	case SourceServiceProviderACSE:
		switch p.Reason {
		case ReasonACSENoReasonGiven:
			return "no reason given"
		case ReasonProtocolVersionNotSupported:
			return "protocol version not supported"
		}
	case SourceServiceProviderPresentation:
		switch p.Reason {
		case ReasonTemporaryCongestion:
			return "temporary congestion"
		case ReasonLocalLimitExceeded:
			return "local limit exceeded"
		}
	}
	return fmt.Sprintf("reason %d", p.Reason)
}

func (p *AssociateRJ) String() string {
	return fmt.Sprintf("A-ASSOCIATE-RJ %s, %s: %s", p.Result, p.Source, p.ReasonString())
}

// ReleaseRQ is an A-RELEASE-RQ PDU.
type ReleaseRQ struct{}

// ReleaseRP is an A-RELEASE-RP PDU.
type ReleaseRP struct{}

// Type implements PDU.
func (*ReleaseRQ) Type() Type { return TypeReleaseRQ }

// Type implements PDU.
func (*ReleaseRP) Type() Type { return TypeReleaseRP }

// AppendTo implements PDU.
func (*ReleaseRQ) AppendTo(b []byte) ([]byte, error) {
	return append(b, byte(TypeReleaseRQ), 0, 0, 0, 0, 4, 0, 0, 0, 0), nil
}

// AppendTo implements PDU.
func (*ReleaseRP) AppendTo(b []byte) ([]byte, error) {
	return append(b, byte(TypeReleaseRP), 0, 0, 0, 0, 4, 0, 0, 0, 0), nil
}

func (*ReleaseRQ) String() string { return "A-RELEASE-RQ" }
func (*ReleaseRP) String() string { return "A-RELEASE-RP" }

// AbortSource is the Source field of an A-ABORT.
type AbortSource uint8

// A-ABORT sources and reasons (PS3.8 table 9-26).
const (
	AbortServiceUser     AbortSource = 0
	AbortServiceProvider AbortSource = 2

	AbortReasonNotSpecified       uint8 = 0
	AbortUnrecognizedPDU          uint8 = 1
	AbortUnexpectedPDU            uint8 = 2
	AbortUnrecognizedPDUParameter uint8 = 4
	AbortUnexpectedPDUParameter   uint8 = 5
	AbortInvalidPDUParameterValue uint8 = 6
)

// Abort is an A-ABORT PDU (PS3.8 9.3.8).
type Abort struct {
	Source AbortSource
	Reason uint8 // meaningful when Source is AbortServiceProvider
}

// Type implements PDU.
func (*Abort) Type() Type { return TypeAbort }

// AppendTo implements PDU.
func (p *Abort) AppendTo(b []byte) ([]byte, error) {
	return append(b, byte(TypeAbort), 0, 0, 0, 0, 4, 0, 0, byte(p.Source), p.Reason), nil
}

func (s AbortSource) String() string {
	switch s {
	case AbortServiceUser:
		return "service-user"
	case 1:
		return "reserved"
	case AbortServiceProvider:
		return "service-provider"
	}
	return fmt.Sprintf("source %d", uint8(s))
}

// ReasonString names the abort reason in the standard's words.
func (p *Abort) ReasonString() string {
	if p.Source != AbortServiceProvider {
		return "not specified"
	}
	switch p.Reason {
	case AbortReasonNotSpecified:
		return "reason not specified"
	case AbortUnrecognizedPDU:
		return "unrecognized PDU"
	case AbortUnexpectedPDU:
		return "unexpected PDU"
	case AbortUnrecognizedPDUParameter:
		return "unrecognized PDU parameter"
	case AbortUnexpectedPDUParameter:
		return "unexpected PDU parameter"
	case AbortInvalidPDUParameterValue:
		return "invalid PDU parameter value"
	}
	return fmt.Sprintf("reason %d", p.Reason)
}

func (p *Abort) String() string {
	return fmt.Sprintf("A-ABORT %s: %s", p.Source, p.ReasonString())
}

// Message control header bits of a PDV (PS3.8 E.2).
const (
	FlagCommand uint8 = 0x01 // set: command information; clear: data set
	FlagLast    uint8 = 0x02 // set: last fragment of the command or data set
)

// PDV is one presentation data value item of a P-DATA-TF PDU.
type PDV struct {
	ContextID uint8
	Flags     uint8 // message control header
	Data      []byte
}

// Command reports whether the PDV carries command information.
func (v PDV) Command() bool { return v.Flags&FlagCommand != 0 }

// Last reports whether the PDV is the last fragment of its message part.
func (v PDV) Last() bool { return v.Flags&FlagLast != 0 }

// PDataTF is a P-DATA-TF PDU: one or more PDVs.
type PDataTF struct {
	Values []PDV
}

// Type implements PDU.
func (*PDataTF) Type() Type { return TypePDataTF }

// AppendTo implements PDU.
func (p *PDataTF) AppendTo(b []byte) ([]byte, error) {
	start := len(b)
	b = append(b, byte(TypePDataTF), 0, 0, 0, 0, 0)
	for _, v := range p.Values {
		if uint64(len(v.Data))+2 > 0xFFFFFFFF {
			return b, ErrTooLarge
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(v.Data)+2))
		b = append(b, v.ContextID, v.Flags)
		b = append(b, v.Data...)
	}
	return finishPDU(b, start)
}

func (p *PDataTF) String() string {
	var b strings.Builder
	b.WriteString("P-DATA-TF")
	for i, v := range p.Values {
		if i == 8 {
			fmt.Fprintf(&b, " ... (%d more PDVs)", len(p.Values)-8)
			break
		}
		kind := "data"
		if v.Command() {
			kind = "command"
		}
		last := ""
		if v.Last() {
			last = ", last"
		}
		fmt.Fprintf(&b, " [ctx %d, %s%s, %d bytes]", v.ContextID, kind, last, len(v.Data))
	}
	return b.String()
}

// PDataHeader returns the 12-byte header of a P-DATA-TF PDU that carries a
// single PDV of dataLen bytes. Writing the header then the data (e.g. with
// net.Buffers) sends the PDU without copying the data.
func PDataHeader(dst *[12]byte, contextID, flags uint8, dataLen int) {
	dst[0], dst[1] = byte(TypePDataTF), 0
	binary.BigEndian.PutUint32(dst[2:], uint32(dataLen+PDVHeaderLen))
	binary.BigEndian.PutUint32(dst[6:], uint32(dataLen+2))
	dst[10], dst[11] = contextID, flags
}

func decodePData(body []byte) (*PDataTF, error) {
	v, err := AppendPDVs(nil, body)
	if err != nil {
		return nil, err
	}
	return &PDataTF{Values: v}, nil
}

// AppendPDVs decodes the PDV items of a P-DATA-TF body (the bytes after
// its 6-byte header) and appends them to dst; their Data alias body. It
// lets a reader decode into storage it reuses (DecodeBody allocates).
// Errors are those of DecodeBody for a P-DATA-TF.
func AppendPDVs(dst []PDV, body []byte) ([]PDV, error) {
	n0 := len(dst)
	for len(body) > 0 {
		if len(body) < 6 {
			return dst, fmt.Errorf("%w: %d trailing bytes in P-DATA-TF", ErrMalformed, len(body))
		}
		n := binary.BigEndian.Uint32(body)
		if n < 2 {
			return dst, fmt.Errorf("%w: PDV item length %d", ErrBadValue, n)
		}
		if uint64(n) > uint64(len(body)-4) {
			return dst, fmt.Errorf("%w: PDV claims %d bytes, %d left", ErrMalformed, n, len(body)-4)
		}
		dst = append(dst, PDV{ContextID: body[4], Flags: body[5], Data: body[6 : 4+n]})
		body = body[4+n:]
	}
	if len(dst) == n0 {
		return dst, fmt.Errorf("%w: P-DATA-TF without PDV", ErrMalformed)
	}
	return dst, nil
}

// Limits bounds what ReadPDU accepts.
type Limits struct {
	// MaxPData bounds the length field of a P-DATA-TF PDU (the value we
	// announced as our maximum length; 0 means DefaultMaxPDU).
	MaxPData uint32
	// MaxAssociate bounds A-ASSOCIATE-RQ/AC; 0 means MaxAssociatePDU.
	MaxAssociate uint32
}

// ReadHeader reads the 6-byte common header and checks the length against
// lim, without allocating. It returns the type and the body length.
func ReadHeader(r io.Reader, hdr *[HeaderLen]byte, lim Limits) (Type, uint32, error) {
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, 0, err
	}
	return ParseHeader(hdr[:], lim)
}

// ParseHeader checks a 6-byte common header against lim and returns the
// PDU type and the length of the body that follows.
func ParseHeader(hdr []byte, lim Limits) (Type, uint32, error) {
	if len(hdr) < HeaderLen {
		return 0, 0, fmt.Errorf("%w: %d-byte header", ErrMalformed, len(hdr))
	}
	t := Type(hdr[0])
	n := binary.BigEndian.Uint32(hdr[2:])
	switch t {
	case TypeAssociateRQ, TypeAssociateAC:
		max := lim.MaxAssociate
		if max == 0 {
			max = MaxAssociatePDU
		}
		if n > max {
			return t, n, fmt.Errorf("%w: %s of %d bytes (limit %d)", ErrTooLarge, t, n, max)
		}
	case TypePDataTF:
		max := lim.MaxPData
		if max == 0 {
			max = DefaultMaxPDU
		}
		if n > max {
			return t, n, fmt.Errorf("%w: %s of %d bytes (limit %d)", ErrTooLarge, t, n, max)
		}
	case TypeAssociateRJ, TypeReleaseRQ, TypeReleaseRP, TypeAbort:
		if n != 4 {
			return t, n, fmt.Errorf("%w: %s length %d (must be 4)", ErrMalformed, t, n)
		}
	default:
		return t, n, fmt.Errorf("%w: 0x%02X", ErrUnknownType, uint8(t))
	}
	return t, n, nil
}

// ReadPDU reads one PDU from r. The returned PDU owns its memory.
// Errors from r are returned as they are (io.EOF before the first byte,
// io.ErrUnexpectedEOF inside a PDU); decode errors wrap the sentinels.
func ReadPDU(r io.Reader, lim Limits) (PDU, error) {
	var hdr [HeaderLen]byte
	t, n, err := ReadHeader(r, &hdr, lim)
	if err != nil {
		return nil, err
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return DecodeBody(t, body)
}

// Decode decodes one whole PDU held in b (header included); trailing bytes
// are an error. Limits are the defaults.
func Decode(b []byte) (PDU, error) {
	if len(b) < HeaderLen {
		return nil, fmt.Errorf("%w: %d bytes", ErrMalformed, len(b))
	}
	t, n, err := ParseHeader(b[:HeaderLen], Limits{})
	if err != nil {
		return nil, err
	}
	if uint64(n) != uint64(len(b)-HeaderLen) {
		return nil, fmt.Errorf("%w: length field %d, %d bytes follow", ErrMalformed, n, len(b)-HeaderLen)
	}
	return DecodeBody(t, b[HeaderLen:])
}

// DecodeBody decodes the variable field of a PDU of type t. PDVs of a
// P-DATA-TF alias body.
func DecodeBody(t Type, body []byte) (PDU, error) {
	switch t {
	case TypeAssociateRQ:
		f, err := decodeAssociate(body, true)
		if err != nil {
			return nil, err
		}
		return &AssociateRQ{ProtocolVersion: f.version, CalledAE: f.called, CallingAE: f.calling,
			ApplicationContext: f.appContext, Contexts: f.rqContexts, UserInfo: f.userInfo}, nil
	case TypeAssociateAC:
		f, err := decodeAssociate(body, false)
		if err != nil {
			return nil, err
		}
		return &AssociateAC{ProtocolVersion: f.version, CalledAE: f.called, CallingAE: f.calling,
			ApplicationContext: f.appContext, Contexts: f.acContexts, UserInfo: f.userInfo}, nil
	case TypeAssociateRJ:
		if len(body) != 4 {
			return nil, fmt.Errorf("%w: A-ASSOCIATE-RJ body %d bytes", ErrMalformed, len(body))
		}
		return &AssociateRJ{Result: RejectResult(body[1]), Source: RejectSource(body[2]), Reason: body[3]}, nil
	case TypePDataTF:
		return decodePData(body)
	case TypeReleaseRQ, TypeReleaseRP:
		if len(body) != 4 {
			return nil, fmt.Errorf("%w: %s body %d bytes", ErrMalformed, t, len(body))
		}
		if t == TypeReleaseRQ {
			return &ReleaseRQ{}, nil
		}
		return &ReleaseRP{}, nil
	case TypeAbort:
		if len(body) != 4 {
			return nil, fmt.Errorf("%w: A-ABORT body %d bytes", ErrMalformed, len(body))
		}
		return &Abort{Source: AbortSource(body[2]), Reason: body[3]}, nil
	}
	return nil, fmt.Errorf("%w: 0x%02X", ErrUnknownType, uint8(t))
}

// Encode returns the wire bytes of p.
func Encode(p PDU) ([]byte, error) { return p.AppendTo(nil) }
