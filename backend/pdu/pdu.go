// Package pdu encodes and decodes the DICOM upper-layer Protocol Data Units
// and their items (PS3.8 section 9.3).
//
// Contract:
//   - Decoding never trusts a length from the wire: every length is checked
//     against the bytes actually present and against the caller's limit
//     before any allocation. A PDU header claiming 4 GB is refused with
//     ErrTooLarge after reading only its 6-byte header.
//   - Decoders return errors wrapping the sentinels below (check them with
//     errors.Is); they never panic on any input.
//   - Unknown items inside A-ASSOCIATE PDUs are skipped (user information
//     sub-items are kept raw in UserInfo.Unknown); reserved fields are ignored
//     on input and written as zero on output (except where the standard asks
//     for echoed values).
//   - ReadPDU returns PDUs that own their memory; Decode and DecodeBody
//     return P-DATA PDVs that alias the bytes given to them. Values are
//     plain data: not safe for concurrent mutation.
//   - ParseHeader / ReadHeader check a 6-byte header against Limits, so a
//     reader (package ul) can refuse a PDU before reading its body.
//
// The package knows nothing of state, sockets or DIMSE: package ul drives it.
package pdu

import (
	"errors"
	"fmt"
)

// Type is the PDU-type field (first byte of every PDU).
type Type uint8

// PDU types, PS3.8 table 9-11 and following.
const (
	TypeAssociateRQ Type = 0x01
	TypeAssociateAC Type = 0x02
	TypeAssociateRJ Type = 0x03
	TypePDataTF     Type = 0x04
	TypeReleaseRQ   Type = 0x05
	TypeReleaseRP   Type = 0x06
	TypeAbort       Type = 0x07
)

// String returns the standard's name for the PDU type, e.g. "A-ASSOCIATE-RQ".
func (t Type) String() string {
	switch t {
	case TypeAssociateRQ:
		return "A-ASSOCIATE-RQ"
	case TypeAssociateAC:
		return "A-ASSOCIATE-AC"
	case TypeAssociateRJ:
		return "A-ASSOCIATE-RJ"
	case TypePDataTF:
		return "P-DATA-TF"
	case TypeReleaseRQ:
		return "A-RELEASE-RQ"
	case TypeReleaseRP:
		return "A-RELEASE-RP"
	case TypeAbort:
		return "A-ABORT"
	}
	return fmt.Sprintf("PDU-type 0x%02X", uint8(t))
}

// Item types, PS3.8 9.3.2 and Annex D.
const (
	ItemApplicationContext    = 0x10
	ItemPresentationContextRQ = 0x20
	ItemPresentationContextAC = 0x21
	ItemAbstractSyntax        = 0x30
	ItemTransferSyntax        = 0x40
	ItemUserInformation       = 0x50
	ItemMaxLength             = 0x51
	ItemImplementationClass   = 0x52
	ItemAsyncOpsWindow        = 0x53
	ItemRoleSelection         = 0x54
	ItemImplementationVersion = 0x55
	ItemSOPClassExtNeg        = 0x56
	ItemSOPClassCommonExtNeg  = 0x57
	ItemUserIdentityRQ        = 0x58
	ItemUserIdentityAC        = 0x59
)

// Sentinel errors.
var (
	// ErrTooLarge: a length field exceeds the caller's limit.
	ErrTooLarge = errors.New("pdu: length exceeds limit")
	// ErrMalformed: lengths disagree with each other or with the bytes present.
	ErrMalformed = errors.New("pdu: malformed")
	// ErrUnknownType: the PDU-type byte is not one of 0x01..0x07.
	ErrUnknownType = errors.New("pdu: unrecognised PDU type")
	// ErrBadValue: a field holds a value the standard does not allow
	// (e.g. protocol version without bit 0, PDV length < 2).
	ErrBadValue = errors.New("pdu: invalid PDU parameter value")
)

// ApplicationContextName is the DICOM application context (PS3.7 A.2.1).
const ApplicationContextName = "1.2.840.10008.3.1.1.1"

// HeaderLen is the length of the common PDU header (type, reserved, length).
const HeaderLen = 6

// PDVHeaderLen is the overhead of one PDV item inside a P-DATA-TF PDU:
// item length (4), presentation context ID (1), message control header (1).
const PDVHeaderLen = 6

// DefaultMaxPDU is the maximum PDU length a Reader accepts when the caller
// passes 0 to mean "unlimited" (PS3.8 allows max length 0 = no limit; we still
// bound what we allocate).
const DefaultMaxPDU = 64 << 20

// MaxAssociatePDU bounds A-ASSOCIATE-RQ/AC PDUs: 128 presentation contexts
// with a dozen transfer syntaxes each fit in well under 1 MB.
const MaxAssociatePDU = 1 << 20

// PDU is any decoded PDU: *AssociateRQ, *AssociateAC, *AssociateRJ,
// *PDataTF, *ReleaseRQ, *ReleaseRP, *Abort.
type PDU interface {
	Type() Type
	// AppendTo appends the wire encoding to b.
	AppendTo(b []byte) ([]byte, error)
	// String is a one-line summary in the standard's words, without data
	// set contents (safe to log at debug level).
	String() string
}
