package dimse

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// CommandField is (0000,0100): which DIMSE operation a command is.
type CommandField uint16

// DIMSE-C command fields (PS3.7 E.1).
const (
	CStoreRQ  CommandField = 0x0001
	CStoreRSP CommandField = 0x8001
	CGetRQ    CommandField = 0x0010
	CGetRSP   CommandField = 0x8010
	CFindRQ   CommandField = 0x0020
	CFindRSP  CommandField = 0x8020
	CMoveRQ   CommandField = 0x0021
	CMoveRSP  CommandField = 0x8021
	CEchoRQ   CommandField = 0x0030
	CEchoRSP  CommandField = 0x8030
	CCancelRQ CommandField = 0x0FFF
)

// IsResponse reports whether the field is a response.
func (f CommandField) IsResponse() bool { return f&0x8000 != 0 }

// Response returns the response field of a request field.
func (f CommandField) Response() CommandField { return f | 0x8000 }

func (f CommandField) String() string {
	switch f {
	case CStoreRQ:
		return "C-STORE-RQ"
	case CStoreRSP:
		return "C-STORE-RSP"
	case CGetRQ:
		return "C-GET-RQ"
	case CGetRSP:
		return "C-GET-RSP"
	case CFindRQ:
		return "C-FIND-RQ"
	case CFindRSP:
		return "C-FIND-RSP"
	case CMoveRQ:
		return "C-MOVE-RQ"
	case CMoveRSP:
		return "C-MOVE-RSP"
	case CEchoRQ:
		return "C-ECHO-RQ"
	case CEchoRSP:
		return "C-ECHO-RSP"
	case CCancelRQ:
		return "C-CANCEL-RQ"
	}
	return fmt.Sprintf("command 0x%04X", uint16(f))
}

// Priority is (0000,0700).
type Priority uint16

// Priorities.
const (
	PriorityMedium Priority = 0x0000
	PriorityHigh   Priority = 0x0001
	PriorityLow    Priority = 0x0002
)

// Opt16 is an optional US value (e.g. sub-operation counts, which a final
// C-MOVE-RSP may omit).
type Opt16 struct {
	Value uint16
	Set   bool
}

// Some returns a set Opt16.
func Some(v uint16) Opt16 { return Opt16{Value: v, Set: true} }

// Element is a command element this package does not model, carried
// through: tag (group<<16 | element) and raw little-endian value.
type Element struct {
	Tag   uint32
	Value []byte
}

// Command is a DIMSE command set (group 0000). Which fields are written
// follows from Field: requests carry MessageID (and Priority for C-STORE,
// C-FIND, C-MOVE, C-GET); responses carry MessageIDBeingRespondedTo and
// Status. Strings and Opt16 values are written when non-empty / Set.
type Command struct {
	Field                     CommandField
	MessageID                 uint16
	MessageIDBeingRespondedTo uint16
	AffectedSOPClassUID       string
	AffectedSOPInstanceUID    string
	RequestedSOPClassUID      string
	RequestedSOPInstanceUID   string
	Priority                  Priority
	// HasDataSet: (0000,0800) is not 0x0101. Set by WriteMessage from
	// whether a data set is supplied.
	HasDataSet              bool
	Status                  Status
	MoveDestination         string // AE title, C-MOVE-RQ
	MoveOriginatorAE        string // C-STORE-RQ as a C-MOVE sub-operation
	MoveOriginatorMessageID Opt16
	Remaining               Opt16 // (0000,1020) number of remaining sub-operations
	Completed               Opt16 // (0000,1021)
	Failed                  Opt16 // (0000,1022)
	Warning                 Opt16 // (0000,1023)
	ErrorComment            string
	ErrorID                 Opt16
	OffendingElement        []uint32
	Other                   []Element
}

// Command element tags (group 0000).
const (
	tagGroupLength          = 0x0000_0000
	tagAffectedSOPClass     = 0x0000_0002
	tagRequestedSOPClass    = 0x0000_0003
	tagCommandField         = 0x0000_0100
	tagMessageID            = 0x0000_0110
	tagMessageIDRespondedTo = 0x0000_0120
	tagMoveDestination      = 0x0000_0600
	tagPriority             = 0x0000_0700
	tagDataSetType          = 0x0000_0800
	tagStatus               = 0x0000_0900
	tagOffendingElement     = 0x0000_0901
	tagErrorComment         = 0x0000_0902
	tagErrorID              = 0x0000_0903
	tagAffectedSOPInstance  = 0x0000_1000
	tagRequestedSOPInstance = 0x0000_1001
	tagRemaining            = 0x0000_1020
	tagCompleted            = 0x0000_1021
	tagFailed               = 0x0000_1022
	tagWarning              = 0x0000_1023
	tagMoveOriginatorAE     = 0x0000_1030
	tagMoveOriginatorID     = 0x0000_1031
)

// DataSetTypeNone is the (0000,0800) value meaning "no data set".
const DataSetTypeNone = 0x0101

// MaxCommandLength bounds a command set (all its fragments together).
const MaxCommandLength = 64 << 10

// Errors from DecodeCommand and the message layer.
var (
	// ErrBadCommand: the command set cannot be decoded or lacks a
	// mandatory element.
	ErrBadCommand = errors.New("dimse: malformed command set")
	// ErrCommandTooLarge: command fragments exceed MaxCommandLength.
	ErrCommandTooLarge = errors.New("dimse: command set too large")
	// ErrProtocol: PDVs out of order (data before command, a context change
	// inside a message, ...).
	ErrProtocol = errors.New("dimse: P-DATA sequence error")
)

func (c *Command) String() string {
	var b strings.Builder
	b.WriteString(c.Field.String())
	if c.Field.IsResponse() {
		fmt.Fprintf(&b, " id=%d status=%s", c.MessageIDBeingRespondedTo, c.Status)
	} else {
		fmt.Fprintf(&b, " id=%d", c.MessageID)
	}
	if c.AffectedSOPClassUID != "" {
		fmt.Fprintf(&b, " class=%s", c.AffectedSOPClassUID)
	}
	if c.HasDataSet {
		b.WriteString(" +dataset")
	}
	return b.String()
}

type encoder struct{ b []byte }

func (e *encoder) hdr(tag uint32, n int) {
	e.b = binary.LittleEndian.AppendUint16(e.b, uint16(tag>>16))
	e.b = binary.LittleEndian.AppendUint16(e.b, uint16(tag))
	e.b = binary.LittleEndian.AppendUint32(e.b, uint32(n))
}

func (e *encoder) us(tag uint32, v uint16) {
	e.hdr(tag, 2)
	e.b = binary.LittleEndian.AppendUint16(e.b, v)
}

func (e *encoder) str(tag uint32, s string, pad byte) {
	if s == "" {
		return
	}
	n := len(s) + len(s)%2
	e.hdr(tag, n)
	e.b = append(e.b, s...)
	if len(s)%2 == 1 {
		e.b = append(e.b, pad)
	}
}

func (e *encoder) opt(tag uint32, v Opt16) {
	if v.Set {
		e.us(tag, v.Value)
	}
}

// Encode returns the command set in Implicit VR Little Endian, elements in
// tag order, led by the group length (0000,0000).
func (c *Command) Encode() ([]byte, error) {
	type item struct {
		tag uint32
		put func(*encoder)
	}
	var items []item
	add := func(tag uint32, f func(*encoder)) { items = append(items, item{tag, f}) }
	uid := func(tag uint32, s string) {
		if s != "" {
			add(tag, func(e *encoder) { e.str(tag, s, 0) })
		}
	}
	text := func(tag uint32, s string) {
		if s != "" {
			add(tag, func(e *encoder) { e.str(tag, s, ' ') })
		}
	}
	us := func(tag uint32, v uint16) { add(tag, func(e *encoder) { e.us(tag, v) }) }
	opt := func(tag uint32, v Opt16) {
		if v.Set {
			us(tag, v.Value)
		}
	}
	for _, s := range []string{c.AffectedSOPClassUID, c.AffectedSOPInstanceUID, c.RequestedSOPClassUID, c.RequestedSOPInstanceUID} {
		if len(s) > 64 {
			return nil, fmt.Errorf("%w: UID longer than 64 characters", ErrBadCommand)
		}
	}
	if len(c.MoveDestination) > 16 || len(c.MoveOriginatorAE) > 16 {
		return nil, fmt.Errorf("%w: AE title longer than 16 characters", ErrBadCommand)
	}
	uid(tagAffectedSOPClass, c.AffectedSOPClassUID)
	uid(tagRequestedSOPClass, c.RequestedSOPClassUID)
	us(tagCommandField, uint16(c.Field))
	if c.Field.IsResponse() {
		us(tagMessageIDRespondedTo, c.MessageIDBeingRespondedTo)
	} else if c.Field == CCancelRQ {
		us(tagMessageIDRespondedTo, c.MessageIDBeingRespondedTo)
	} else {
		us(tagMessageID, c.MessageID)
	}
	text(tagMoveDestination, c.MoveDestination)
	switch c.Field {
	case CStoreRQ, CFindRQ, CMoveRQ, CGetRQ:
		us(tagPriority, uint16(c.Priority))
	}
	dst := uint16(DataSetTypeNone)
	if c.HasDataSet {
		dst = 0x0000
	}
	us(tagDataSetType, dst)
	if c.Field.IsResponse() {
		us(tagStatus, uint16(c.Status))
	}
	if len(c.OffendingElement) > 0 {
		oe := c.OffendingElement
		add(tagOffendingElement, func(e *encoder) {
			e.hdr(tagOffendingElement, 4*len(oe))
			for _, t := range oe {
				e.b = binary.LittleEndian.AppendUint16(e.b, uint16(t>>16))
				e.b = binary.LittleEndian.AppendUint16(e.b, uint16(t))
			}
		})
	}
	if len(c.ErrorComment) > 64 {
		return nil, fmt.Errorf("%w: error comment longer than 64 characters", ErrBadCommand)
	}
	text(tagErrorComment, c.ErrorComment)
	opt(tagErrorID, c.ErrorID)
	uid(tagAffectedSOPInstance, c.AffectedSOPInstanceUID)
	uid(tagRequestedSOPInstance, c.RequestedSOPInstanceUID)
	opt(tagRemaining, c.Remaining)
	opt(tagCompleted, c.Completed)
	opt(tagFailed, c.Failed)
	opt(tagWarning, c.Warning)
	text(tagMoveOriginatorAE, c.MoveOriginatorAE)
	opt(tagMoveOriginatorID, c.MoveOriginatorMessageID)
	for _, o := range c.Other {
		if o.Tag>>16 != 0 || o.Tag == tagGroupLength {
			return nil, fmt.Errorf("%w: element (%04X,%04X) outside group 0000", ErrBadCommand, o.Tag>>16, o.Tag&0xFFFF)
		}
		v := o.Value
		t := o.Tag
		add(t, func(e *encoder) {
			e.hdr(t, len(v)+len(v)%2)
			e.b = append(e.b, v...)
			if len(v)%2 == 1 {
				e.b = append(e.b, 0)
			}
		})
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].tag < items[j].tag })
	e := &encoder{b: make([]byte, 12, 256)}
	for _, it := range items {
		it.put(e)
	}
	if len(e.b) > MaxCommandLength {
		return nil, ErrCommandTooLarge
	}
	// (0000,0000) UL group length = bytes after this element
	binary.LittleEndian.PutUint32(e.b[0:], 0)
	binary.LittleEndian.PutUint32(e.b[4:], 4)
	binary.LittleEndian.PutUint32(e.b[8:], uint32(len(e.b)-12))
	return e.b, nil
}

func trimUID(b []byte) string  { return strings.TrimRight(string(b), "\x00 ") }
func trimText(b []byte) string { return strings.Trim(string(b), " \x00") }

// DecodeCommand parses a command set in Implicit VR Little Endian. It
// requires (0000,0100) and, for requests and responses, the message ID
// element; unknown elements are kept in Other. The group length, if
// present, is not trusted (some peers get it wrong); element lengths are.
func DecodeCommand(b []byte) (*Command, error) {
	if len(b) > MaxCommandLength {
		return nil, ErrCommandTooLarge
	}
	c := &Command{}
	var have uint32 // bit flags: 1 field, 2 message id, 4 responded-to, 8 status, 16 data set type
	for len(b) > 0 {
		if len(b) < 8 {
			return nil, fmt.Errorf("%w: %d trailing bytes", ErrBadCommand, len(b))
		}
		tag := uint32(binary.LittleEndian.Uint16(b))<<16 | uint32(binary.LittleEndian.Uint16(b[2:]))
		n := binary.LittleEndian.Uint32(b[4:])
		if uint64(n) > uint64(len(b)-8) {
			return nil, fmt.Errorf("%w: element (%04X,%04X) claims %d bytes, %d left", ErrBadCommand, tag>>16, tag&0xFFFF, n, len(b)-8)
		}
		if tag>>16 != 0 {
			return nil, fmt.Errorf("%w: element (%04X,%04X) outside group 0000", ErrBadCommand, tag>>16, tag&0xFFFF)
		}
		v := b[8 : 8+n]
		b = b[8+n:]
		u16 := func() (uint16, error) {
			if len(v) != 2 {
				return 0, fmt.Errorf("%w: US element (0000,%04X) of %d bytes", ErrBadCommand, tag&0xFFFF, len(v))
			}
			return binary.LittleEndian.Uint16(v), nil
		}
		opt := func(dst *Opt16) error {
			x, err := u16()
			*dst = Opt16{Value: x, Set: err == nil}
			return err
		}
		var err error
		switch tag {
		case tagGroupLength:
		case tagAffectedSOPClass:
			c.AffectedSOPClassUID = trimUID(v)
		case tagRequestedSOPClass:
			c.RequestedSOPClassUID = trimUID(v)
		case tagCommandField:
			var x uint16
			x, err = u16()
			c.Field = CommandField(x)
			have |= 1
		case tagMessageID:
			c.MessageID, err = u16()
			have |= 2
		case tagMessageIDRespondedTo:
			c.MessageIDBeingRespondedTo, err = u16()
			have |= 4
		case tagMoveDestination:
			c.MoveDestination = trimText(v)
		case tagPriority:
			var x uint16
			x, err = u16()
			c.Priority = Priority(x)
		case tagDataSetType:
			var x uint16
			x, err = u16()
			c.HasDataSet = x != DataSetTypeNone
			have |= 16
		case tagStatus:
			var x uint16
			x, err = u16()
			c.Status = Status(x)
			have |= 8
		case tagOffendingElement:
			if len(v)%4 != 0 {
				return nil, fmt.Errorf("%w: AT element of %d bytes", ErrBadCommand, len(v))
			}
			for i := 0; i+4 <= len(v); i += 4 {
				c.OffendingElement = append(c.OffendingElement,
					uint32(binary.LittleEndian.Uint16(v[i:]))<<16|uint32(binary.LittleEndian.Uint16(v[i+2:])))
			}
		case tagErrorComment:
			c.ErrorComment = trimText(v)
		case tagErrorID:
			err = opt(&c.ErrorID)
		case tagAffectedSOPInstance:
			c.AffectedSOPInstanceUID = trimUID(v)
		case tagRequestedSOPInstance:
			c.RequestedSOPInstanceUID = trimUID(v)
		case tagRemaining:
			err = opt(&c.Remaining)
		case tagCompleted:
			err = opt(&c.Completed)
		case tagFailed:
			err = opt(&c.Failed)
		case tagWarning:
			err = opt(&c.Warning)
		case tagMoveOriginatorAE:
			c.MoveOriginatorAE = trimText(v)
		case tagMoveOriginatorID:
			err = opt(&c.MoveOriginatorMessageID)
		default:
			c.Other = append(c.Other, Element{Tag: tag, Value: append([]byte(nil), v...)})
		}
		if err != nil {
			return nil, err
		}
	}
	if have&1 == 0 {
		return nil, fmt.Errorf("%w: no command field (0000,0100)", ErrBadCommand)
	}
	switch {
	case c.Field == CCancelRQ:
		if have&4 == 0 {
			return nil, fmt.Errorf("%w: C-CANCEL-RQ without (0000,0120)", ErrBadCommand)
		}
	case c.Field.IsResponse():
		if have&4 == 0 || have&8 == 0 {
			return nil, fmt.Errorf("%w: %s without message ID being responded to or status", ErrBadCommand, c.Field)
		}
	default:
		if have&2 == 0 {
			return nil, fmt.Errorf("%w: %s without message ID", ErrBadCommand, c.Field)
		}
	}
	if have&16 == 0 {
		return nil, fmt.Errorf("%w: no command data set type (0000,0800)", ErrBadCommand)
	}
	return c, nil
}
