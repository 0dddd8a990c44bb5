package pdu

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// PresentationContextRQ is a presentation context item of an
// A-ASSOCIATE-RQ (item type 0x20): one abstract syntax proposed with one or
// more transfer syntaxes in order of preference.
type PresentationContextRQ struct {
	ID               uint8 // odd, 1..255
	AbstractSyntax   string
	TransferSyntaxes []string
}

// ContextResult is the Result/Reason field of a presentation context item
// in an A-ASSOCIATE-AC (PS3.8 table 9-18).
type ContextResult uint8

// Presentation context results.
const (
	ContextAccepted                     ContextResult = 0
	ContextUserRejection                ContextResult = 1
	ContextNoReason                     ContextResult = 2
	ContextAbstractSyntaxNotSupported   ContextResult = 3
	ContextTransferSyntaxesNotSupported ContextResult = 4
)

func (r ContextResult) String() string {
	switch r {
	case ContextAccepted:
		return "acceptance"
	case ContextUserRejection:
		return "user-rejection"
	case ContextNoReason:
		return "no-reason (provider rejection)"
	case ContextAbstractSyntaxNotSupported:
		return "abstract-syntax-not-supported (provider rejection)"
	case ContextTransferSyntaxesNotSupported:
		return "transfer-syntaxes-not-supported (provider rejection)"
	}
	return fmt.Sprintf("result %d", uint8(r))
}

// PresentationContextAC is a presentation context item of an
// A-ASSOCIATE-AC (item type 0x21). TransferSyntax is meaningful only when
// Result is ContextAccepted.
type PresentationContextAC struct {
	ID             uint8
	Result         ContextResult
	TransferSyntax string
}

// RoleSelection is the SCP/SCU Role Selection sub-item (0x54, PS3.7 D.3.3.4).
// SCU and SCP tell whether the association-requestor may act in that role.
type RoleSelection struct {
	SOPClassUID string
	SCU, SCP    bool
}

// AsyncOps is the Asynchronous Operations Window sub-item (0x53).
type AsyncOps struct {
	Invoked, Performed uint16
}

// ExtendedNegotiation is the SOP Class Extended Negotiation sub-item (0x56);
// Info is the service-class-application-information, carried through.
type ExtendedNegotiation struct {
	SOPClassUID string
	Info        []byte
}

// UserIdentityRQ is the User Identity Negotiation sub-item of an
// A-ASSOCIATE-RQ (0x58). Type: 1 username, 2 username+passcode, 3 Kerberos,
// 4 SAML, 5 JWT. Never log Primary/Secondary.
type UserIdentityRQ struct {
	Type                      uint8
	PositiveResponseRequested bool
	Primary, Secondary        []byte
}

// RawItem is an item kept as bytes: unknown user information sub-items and
// SOP Class Common Extended Negotiation (0x57), carried through unparsed.
type RawItem struct {
	Type uint8
	Data []byte
}

// UserInfo is the User Information item (0x50) and its sub-items.
type UserInfo struct {
	// MaxLength is the maximum length of the variable field of a P-DATA-TF
	// PDU the sender can receive; 0 means no limit.
	MaxLength                 uint32
	ImplementationClassUID    string
	ImplementationVersionName string
	AsyncOps                  *AsyncOps
	Roles                     []RoleSelection
	ExtNeg                    []ExtendedNegotiation
	CommonExtNeg              []RawItem
	UserIdentity              *UserIdentityRQ // 0x58, sent in an RQ
	UserIdentityResponse      []byte          // 0x59, sent in an AC; nil if absent
	Unknown                   []RawItem
}

// AssociateRQ is an A-ASSOCIATE-RQ PDU (PS3.8 9.3.2).
type AssociateRQ struct {
	ProtocolVersion    uint16 // 0x0001
	CalledAE           string // without padding
	CallingAE          string
	ApplicationContext string // empty encodes as ApplicationContextName
	Contexts           []PresentationContextRQ
	UserInfo           UserInfo
}

// AssociateAC is an A-ASSOCIATE-AC PDU (PS3.8 9.3.3). CalledAE and
// CallingAE echo the request (the standard says they are not tested).
type AssociateAC struct {
	ProtocolVersion    uint16
	CalledAE           string
	CallingAE          string
	ApplicationContext string
	Contexts           []PresentationContextAC
	UserInfo           UserInfo
}

// Type implements PDU.
func (*AssociateRQ) Type() Type { return TypeAssociateRQ }

// Type implements PDU.
func (*AssociateAC) Type() Type { return TypeAssociateAC }

func (p *AssociateRQ) String() string {
	return fmt.Sprintf("A-ASSOCIATE-RQ calling=%q called=%q contexts=%d max-pdu=%d impl=%s %q",
		p.CallingAE, p.CalledAE, len(p.Contexts), p.UserInfo.MaxLength,
		p.UserInfo.ImplementationClassUID, p.UserInfo.ImplementationVersionName)
}

func (p *AssociateAC) String() string {
	n := 0
	for _, c := range p.Contexts {
		if c.Result == ContextAccepted {
			n++
		}
	}
	return fmt.Sprintf("A-ASSOCIATE-AC calling=%q called=%q contexts=%d accepted=%d max-pdu=%d impl=%s %q",
		p.CallingAE, p.CalledAE, len(p.Contexts), n, p.UserInfo.MaxLength,
		p.UserInfo.ImplementationClassUID, p.UserInfo.ImplementationVersionName)
}

// ---- encoding ----

func appendAE(b []byte, ae string) ([]byte, error) {
	if len(ae) > 16 {
		return b, fmt.Errorf("%w: AE title %q longer than 16 bytes", ErrBadValue, ae)
	}
	b = append(b, ae...)
	for i := len(ae); i < 16; i++ {
		b = append(b, ' ')
	}
	return b, nil
}

// appendItem appends an item header (type, reserved, 16-bit length) and
// body produced by fill.
func appendItem(b []byte, typ uint8, fill func([]byte) ([]byte, error)) ([]byte, error) {
	start := len(b)
	b = append(b, typ, 0, 0, 0)
	b, err := fill(b)
	if err != nil {
		return b, err
	}
	n := len(b) - start - 4
	if n > 0xFFFF {
		return b, fmt.Errorf("%w: item 0x%02X is %d bytes", ErrTooLarge, typ, n)
	}
	binary.BigEndian.PutUint16(b[start+2:], uint16(n))
	return b, nil
}

func appendStringItem(b []byte, typ uint8, s string) ([]byte, error) {
	return appendItem(b, typ, func(b []byte) ([]byte, error) { return append(b, s...), nil })
}

func appendU16Bytes(b []byte, v []byte) ([]byte, error) {
	if len(v) > 0xFFFF {
		return b, fmt.Errorf("%w: field of %d bytes", ErrTooLarge, len(v))
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
	return append(b, v...), nil
}

func (u *UserInfo) appendTo(b []byte) ([]byte, error) {
	return appendItem(b, ItemUserInformation, func(b []byte) ([]byte, error) {
		var err error
		b, err = appendItem(b, ItemMaxLength, func(b []byte) ([]byte, error) {
			return binary.BigEndian.AppendUint32(b, u.MaxLength), nil
		})
		if err != nil {
			return b, err
		}
		if u.ImplementationClassUID != "" {
			if b, err = appendStringItem(b, ItemImplementationClass, u.ImplementationClassUID); err != nil {
				return b, err
			}
		}
		if u.AsyncOps != nil {
			b, _ = appendItem(b, ItemAsyncOpsWindow, func(b []byte) ([]byte, error) {
				b = binary.BigEndian.AppendUint16(b, u.AsyncOps.Invoked)
				return binary.BigEndian.AppendUint16(b, u.AsyncOps.Performed), nil
			})
		}
		for _, r := range u.Roles {
			b, err = appendItem(b, ItemRoleSelection, func(b []byte) ([]byte, error) {
				b, err := appendU16Bytes(b, []byte(r.SOPClassUID))
				return append(b, boolByte(r.SCU), boolByte(r.SCP)), err
			})
			if err != nil {
				return b, err
			}
		}
		if u.ImplementationVersionName != "" {
			if len(u.ImplementationVersionName) > 16 {
				return b, fmt.Errorf("%w: implementation version name longer than 16", ErrBadValue)
			}
			if b, err = appendStringItem(b, ItemImplementationVersion, u.ImplementationVersionName); err != nil {
				return b, err
			}
		}
		for _, e := range u.ExtNeg {
			b, err = appendItem(b, ItemSOPClassExtNeg, func(b []byte) ([]byte, error) {
				b, err := appendU16Bytes(b, []byte(e.SOPClassUID))
				return append(b, e.Info...), err
			})
			if err != nil {
				return b, err
			}
		}
		for _, r := range u.CommonExtNeg {
			if b, err = appendRaw(b, r); err != nil {
				return b, err
			}
		}
		if u.UserIdentity != nil {
			id := u.UserIdentity
			b, err = appendItem(b, ItemUserIdentityRQ, func(b []byte) ([]byte, error) {
				b = append(b, id.Type, boolByte(id.PositiveResponseRequested))
				b, err := appendU16Bytes(b, id.Primary)
				if err != nil {
					return b, err
				}
				return appendU16Bytes(b, id.Secondary)
			})
			if err != nil {
				return b, err
			}
		}
		if u.UserIdentityResponse != nil {
			b, err = appendItem(b, ItemUserIdentityAC, func(b []byte) ([]byte, error) {
				return appendU16Bytes(b, u.UserIdentityResponse)
			})
			if err != nil {
				return b, err
			}
		}
		for _, r := range u.Unknown {
			if b, err = appendRaw(b, r); err != nil {
				return b, err
			}
		}
		return b, nil
	})
}

func appendRaw(b []byte, r RawItem) ([]byte, error) {
	return appendItem(b, r.Type, func(b []byte) ([]byte, error) { return append(b, r.Data...), nil })
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

func appendAssociateHeader(b []byte, t Type, version uint16, called, calling string) ([]byte, error) {
	b = append(b, byte(t), 0, 0, 0, 0, 0)
	if version == 0 {
		version = 1
	}
	b = binary.BigEndian.AppendUint16(b, version)
	b = append(b, 0, 0)
	var err error
	if b, err = appendAE(b, called); err != nil {
		return b, err
	}
	if b, err = appendAE(b, calling); err != nil {
		return b, err
	}
	return append(b, make([]byte, 32)...), nil
}

func finishPDU(b []byte, start int) ([]byte, error) {
	n := len(b) - start - HeaderLen
	if uint64(n) > 0xFFFFFFFF {
		return b, ErrTooLarge
	}
	binary.BigEndian.PutUint32(b[start+2:], uint32(n))
	return b, nil
}

// AppendTo implements PDU.
func (p *AssociateRQ) AppendTo(b []byte) ([]byte, error) {
	start := len(b)
	b, err := appendAssociateHeader(b, TypeAssociateRQ, p.ProtocolVersion, p.CalledAE, p.CallingAE)
	if err != nil {
		return b, err
	}
	ac := p.ApplicationContext
	if ac == "" {
		ac = ApplicationContextName
	}
	if b, err = appendStringItem(b, ItemApplicationContext, ac); err != nil {
		return b, err
	}
	for _, c := range p.Contexts {
		b, err = appendItem(b, ItemPresentationContextRQ, func(b []byte) ([]byte, error) {
			b = append(b, c.ID, 0, 0, 0)
			b, err := appendStringItem(b, ItemAbstractSyntax, c.AbstractSyntax)
			if err != nil {
				return b, err
			}
			for _, ts := range c.TransferSyntaxes {
				if b, err = appendStringItem(b, ItemTransferSyntax, ts); err != nil {
					return b, err
				}
			}
			return b, nil
		})
		if err != nil {
			return b, err
		}
	}
	if b, err = p.UserInfo.appendTo(b); err != nil {
		return b, err
	}
	return finishPDU(b, start)
}

// AppendTo implements PDU.
func (p *AssociateAC) AppendTo(b []byte) ([]byte, error) {
	start := len(b)
	b, err := appendAssociateHeader(b, TypeAssociateAC, p.ProtocolVersion, p.CalledAE, p.CallingAE)
	if err != nil {
		return b, err
	}
	ac := p.ApplicationContext
	if ac == "" {
		ac = ApplicationContextName
	}
	if b, err = appendStringItem(b, ItemApplicationContext, ac); err != nil {
		return b, err
	}
	for _, c := range p.Contexts {
		b, err = appendItem(b, ItemPresentationContextAC, func(b []byte) ([]byte, error) {
			b = append(b, c.ID, 0, byte(c.Result), 0)
			return appendStringItem(b, ItemTransferSyntax, c.TransferSyntax)
		})
		if err != nil {
			return b, err
		}
	}
	if b, err = p.UserInfo.appendTo(b); err != nil {
		return b, err
	}
	return finishPDU(b, start)
}

// ---- decoding ----

// items iterates over items with a 1-byte type, 1 reserved byte and a
// 2-byte big-endian length.
func eachItem(b []byte, fn func(typ uint8, body []byte) error) error {
	for len(b) > 0 {
		if len(b) < 4 {
			return fmt.Errorf("%w: %d trailing bytes after the last item", ErrMalformed, len(b))
		}
		typ := b[0]
		n := int(binary.BigEndian.Uint16(b[2:4]))
		if n > len(b)-4 {
			return fmt.Errorf("%w: item 0x%02X claims %d bytes, %d left", ErrMalformed, typ, n, len(b)-4)
		}
		if err := fn(typ, b[4:4+n]); err != nil {
			return err
		}
		b = b[4+n:]
	}
	return nil
}

// uidString trims the trailing NUL padding and spaces some implementations add.
func uidString(b []byte) string {
	return strings.TrimRight(string(b), "\x00 ")
}

func aeString(b []byte) string {
	return strings.Trim(string(b), " \x00")
}

// u16Field reads a 2-byte length and that many bytes.
func u16Field(b []byte) (field, rest []byte, err error) {
	if len(b) < 2 {
		return nil, nil, fmt.Errorf("%w: short sub-item field", ErrMalformed)
	}
	n := int(binary.BigEndian.Uint16(b))
	if n > len(b)-2 {
		return nil, nil, fmt.Errorf("%w: sub-item field claims %d bytes, %d left", ErrMalformed, n, len(b)-2)
	}
	return b[2 : 2+n], b[2+n:], nil
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

func decodeUserInfo(body []byte, u *UserInfo) error {
	return eachItem(body, func(typ uint8, v []byte) error {
		switch typ {
		case ItemMaxLength:
			if len(v) != 4 {
				return fmt.Errorf("%w: maximum length sub-item of %d bytes", ErrMalformed, len(v))
			}
			u.MaxLength = binary.BigEndian.Uint32(v)
		case ItemImplementationClass:
			u.ImplementationClassUID = uidString(v)
		case ItemImplementationVersion:
			u.ImplementationVersionName = aeString(v)
		case ItemAsyncOpsWindow:
			if len(v) != 4 {
				return fmt.Errorf("%w: asynchronous operations window of %d bytes", ErrMalformed, len(v))
			}
			u.AsyncOps = &AsyncOps{Invoked: binary.BigEndian.Uint16(v), Performed: binary.BigEndian.Uint16(v[2:])}
		case ItemRoleSelection:
			uid, rest, err := u16Field(v)
			if err != nil {
				return err
			}
			if len(rest) != 2 {
				return fmt.Errorf("%w: role selection sub-item", ErrMalformed)
			}
			u.Roles = append(u.Roles, RoleSelection{SOPClassUID: uidString(uid), SCU: rest[0] == 1, SCP: rest[1] == 1})
		case ItemSOPClassExtNeg:
			uid, rest, err := u16Field(v)
			if err != nil {
				return err
			}
			u.ExtNeg = append(u.ExtNeg, ExtendedNegotiation{SOPClassUID: uidString(uid), Info: clone(rest)})
		case ItemSOPClassCommonExtNeg:
			u.CommonExtNeg = append(u.CommonExtNeg, RawItem{Type: typ, Data: clone(v)})
		case ItemUserIdentityRQ:
			if len(v) < 2 {
				return fmt.Errorf("%w: user identity sub-item", ErrMalformed)
			}
			id := &UserIdentityRQ{Type: v[0], PositiveResponseRequested: v[1] == 1}
			p, rest, err := u16Field(v[2:])
			if err != nil {
				return err
			}
			s, _, err := u16Field(rest)
			if err != nil {
				return err
			}
			id.Primary, id.Secondary = clone(p), clone(s)
			u.UserIdentity = id
		case ItemUserIdentityAC:
			r, _, err := u16Field(v)
			if err != nil {
				return err
			}
			u.UserIdentityResponse = append([]byte{}, r...)
		default:
			u.Unknown = append(u.Unknown, RawItem{Type: typ, Data: clone(v)})
		}
		return nil
	})
}

type associateFields struct {
	version         uint16
	called, calling string
	appContext      string
	rqContexts      []PresentationContextRQ
	acContexts      []PresentationContextAC
	userInfo        UserInfo
}

func decodeAssociate(body []byte, rq bool) (*associateFields, error) {
	if len(body) < 68 {
		return nil, fmt.Errorf("%w: A-ASSOCIATE body of %d bytes (< 68)", ErrMalformed, len(body))
	}
	f := &associateFields{
		version: binary.BigEndian.Uint16(body[0:2]),
		called:  aeString(body[4:20]),
		calling: aeString(body[20:36]),
	}
	if f.version&1 == 0 {
		return nil, fmt.Errorf("%w: protocol version 0x%04X", ErrBadValue, f.version)
	}
	seenUser := false
	err := eachItem(body[68:], func(typ uint8, v []byte) error {
		switch typ {
		case ItemApplicationContext:
			f.appContext = uidString(v)
		case ItemPresentationContextRQ:
			if !rq {
				return nil // not expected in an AC: skip
			}
			if len(v) < 4 {
				return fmt.Errorf("%w: presentation context item of %d bytes", ErrMalformed, len(v))
			}
			pc := PresentationContextRQ{ID: v[0]}
			err := eachItem(v[4:], func(st uint8, sv []byte) error {
				switch st {
				case ItemAbstractSyntax:
					pc.AbstractSyntax = uidString(sv)
				case ItemTransferSyntax:
					pc.TransferSyntaxes = append(pc.TransferSyntaxes, uidString(sv))
				}
				return nil
			})
			if err != nil {
				return err
			}
			f.rqContexts = append(f.rqContexts, pc)
		case ItemPresentationContextAC:
			if rq {
				return nil
			}
			if len(v) < 4 {
				return fmt.Errorf("%w: presentation context item of %d bytes", ErrMalformed, len(v))
			}
			pc := PresentationContextAC{ID: v[0], Result: ContextResult(v[2])}
			err := eachItem(v[4:], func(st uint8, sv []byte) error {
				if st == ItemTransferSyntax {
					pc.TransferSyntax = uidString(sv)
				}
				return nil
			})
			if err != nil {
				return err
			}
			f.acContexts = append(f.acContexts, pc)
		case ItemUserInformation:
			if seenUser {
				return fmt.Errorf("%w: two user information items", ErrMalformed)
			}
			seenUser = true
			return decodeUserInfo(v, &f.userInfo)
		}
		return nil // unknown items are skipped
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}
