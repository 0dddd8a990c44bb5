package dimse

import "fmt"

// Status is a DIMSE status (0000,0900): a VALUE carried by a response,
// never a Go error. A request that reached the peer and got a Failure
// status has err == nil.
type Status uint16

// StatusClass groups statuses as PS3.7 annex C does.
type StatusClass uint8

// Status classes.
const (
	ClassSuccess StatusClass = iota + 1
	ClassPending
	ClassCancel
	ClassWarning
	ClassFailure
)

func (c StatusClass) String() string {
	switch c {
	case ClassSuccess:
		return "Success"
	case ClassPending:
		return "Pending"
	case ClassCancel:
		return "Cancel"
	case ClassWarning:
		return "Warning"
	case ClassFailure:
		return "Failure"
	}
	return "?"
}

// Common status codes (PS3.7 annex C, PS3.4 annexes B and C).
const (
	StatusSuccess                  Status = 0x0000
	StatusPending                  Status = 0xFF00
	StatusPendingOptionalKeys      Status = 0xFF01 // C-FIND: optional keys not supported
	StatusCancel                   Status = 0xFE00
	StatusWarningCoercion          Status = 0xB000 // C-STORE: coercion of data elements; C-MOVE/C-GET: sub-operations with failures
	StatusWarningElementsDiscarded Status = 0xB006
	StatusWarningSOPClassMismatch  Status = 0xB007
	StatusAttributeListError       Status = 0x0107
	StatusAttributeValueOutOfRange Status = 0x0116
	StatusOutOfResources           Status = 0xA700
	StatusOutOfResourcesMatches    Status = 0xA701
	StatusOutOfResourcesSubOps     Status = 0xA702
	StatusMoveDestinationUnknown   Status = 0xA801
	StatusDataSetMismatch          Status = 0xA900
	StatusCannotUnderstand         Status = 0xC000
	StatusProcessingFailure        Status = 0x0110
	StatusDuplicateSOPInstance     Status = 0x0111
	StatusNoSuchSOPInstance        Status = 0x0112
	StatusInvalidObjectInstance    Status = 0x0117
	StatusNoSuchSOPClass           Status = 0x0118
	StatusClassInstanceConflict    Status = 0x0119
	StatusMissingAttribute         Status = 0x0120
	StatusMissingAttributeValue    Status = 0x0121
	StatusSOPClassNotSupported     Status = 0x0122
	StatusNotAuthorized            Status = 0x0124
	StatusDuplicateInvocation      Status = 0x0210
	StatusUnrecognizedOperation    Status = 0x0211
	StatusMistypedArgument         Status = 0x0212
	StatusResourceLimitation       Status = 0x0213
)

// Class returns the status class.
func (s Status) Class() StatusClass {
	switch {
	case s == StatusSuccess:
		return ClassSuccess
	case s == StatusPending || s == StatusPendingOptionalKeys:
		return ClassPending
	case s == StatusCancel:
		return ClassCancel
	case s == 0x0001 || s == StatusAttributeListError || s == StatusAttributeValueOutOfRange || s&0xF000 == 0xB000:
		return ClassWarning
	}
	return ClassFailure
}

// IsPending reports a pending status (more responses follow).
func (s Status) IsPending() bool { return s.Class() == ClassPending }

// IsFinal reports a status that ends an operation (not pending).
func (s Status) IsFinal() bool { return !s.IsPending() }

// OK reports Success or Warning: the operation was performed.
func (s Status) OK() bool { c := s.Class(); return c == ClassSuccess || c == ClassWarning }

var statusText = map[Status]string{
	StatusSuccess:                  "success",
	StatusPending:                  "pending",
	StatusPendingOptionalKeys:      "pending, optional keys not supported",
	StatusCancel:                   "cancelled",
	0x0001:                         "requested optional attributes not supported",
	StatusWarningCoercion:          "coercion of data elements / sub-operations complete with failures",
	StatusWarningElementsDiscarded: "elements discarded",
	StatusWarningSOPClassMismatch:  "data set does not match SOP class",
	StatusAttributeListError:       "attribute list error",
	StatusAttributeValueOutOfRange: "attribute value out of range",
	StatusOutOfResources:           "refused: out of resources",
	StatusOutOfResourcesMatches:    "refused: out of resources, unable to calculate number of matches",
	StatusOutOfResourcesSubOps:     "refused: out of resources, unable to perform sub-operations",
	StatusMoveDestinationUnknown:   "refused: move destination unknown",
	StatusDataSetMismatch:          "error: data set does not match SOP class",
	StatusCannotUnderstand:         "error: cannot understand",
	StatusProcessingFailure:        "processing failure",
	StatusDuplicateSOPInstance:     "duplicate SOP instance",
	StatusNoSuchSOPInstance:        "no such SOP instance",
	StatusInvalidObjectInstance:    "invalid object instance",
	StatusNoSuchSOPClass:           "no such SOP class",
	StatusClassInstanceConflict:    "class-instance conflict",
	StatusMissingAttribute:         "missing attribute",
	StatusMissingAttributeValue:    "missing attribute value",
	StatusSOPClassNotSupported:     "refused: SOP class not supported",
	StatusNotAuthorized:            "refused: not authorized",
	StatusDuplicateInvocation:      "duplicate invocation",
	StatusUnrecognizedOperation:    "unrecognized operation",
	StatusMistypedArgument:         "mistyped argument",
	StatusResourceLimitation:       "resource limitation",
	0x0105:                         "no such attribute",
	0x0106:                         "invalid attribute value",
	0x0113:                         "no such event type",
	0x0114:                         "no such argument",
	0x0115:                         "invalid argument value",
	0x0123:                         "no such action",
}

// Meaning returns the meaning of the code in words. Codes inside the
// ranges the standard reserves (A7xx, A9xx, Cxxx, Bxxx) get the range's meaning.
func (s Status) Meaning() string {
	if t, ok := statusText[s]; ok {
		return t
	}
	switch s & 0xFF00 {
	case 0xA700:
		return "refused: out of resources"
	case 0xA900:
		return "error: data set does not match SOP class"
	}
	switch s & 0xF000 {
	case 0xC000:
		return "error: cannot understand"
	case 0xB000:
		return "warning"
	case 0xA000:
		return "failure"
	}
	return "unknown status"
}

// MeaningFor refines Meaning for the operation the status answers where
// the standard gives one code two meanings.
func (s Status) MeaningFor(f CommandField) string {
	if s == StatusWarningCoercion {
		switch f &^ 0x8000 {
		case CMoveRQ, CGetRQ:
			return "sub-operations complete, one or more failures or warnings"
		case CStoreRQ:
			return "coercion of data elements"
		}
	}
	return s.Meaning()
}

// String is "0xA900 Failure (error: data set does not match SOP class)".
func (s Status) String() string {
	return fmt.Sprintf("0x%04X %s (%s)", uint16(s), s.Class(), s.Meaning())
}
