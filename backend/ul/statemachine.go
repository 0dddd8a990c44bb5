package ul

import "fmt"

// State is a state of the DICOM upper-layer protocol machine (PS3.8 table 9-10).
type State uint8

// States Sta1..Sta13.
const (
	Sta1  State = 1 + iota // Idle
	Sta2                   // Transport connection open (awaiting A-ASSOCIATE-RQ PDU)
	Sta3                   // Awaiting local A-ASSOCIATE response primitive
	Sta4                   // Awaiting transport connection opening to complete
	Sta5                   // Awaiting A-ASSOCIATE-AC or A-ASSOCIATE-RJ PDU
	Sta6                   // Association established and ready for data transfer
	Sta7                   // Awaiting A-RELEASE-RP PDU
	Sta8                   // Awaiting local A-RELEASE response primitive
	Sta9                   // Release collision requestor side; awaiting A-RELEASE response primitive
	Sta10                  // Release collision acceptor side; awaiting A-RELEASE-RP PDU
	Sta11                  // Release collision requestor side; awaiting A-RELEASE-RP PDU
	Sta12                  // Release collision acceptor side; awaiting A-RELEASE response primitive
	Sta13                  // Awaiting Transport Connection Close Indication
)

func (s State) String() string { return fmt.Sprintf("Sta%d", uint8(s)) }

// Event is an input of the state machine, Evt1..Evt19.
type Event uint8

// Events Evt1..Evt19.
const (
	Evt1  Event = 1 + iota // A-ASSOCIATE request (local user)
	Evt2                   // Transport connect confirmation (local transport service)
	Evt3                   // A-ASSOCIATE-AC PDU received
	Evt4                   // A-ASSOCIATE-RJ PDU received
	Evt5                   // Transport connection indication
	Evt6                   // A-ASSOCIATE-RQ PDU received
	Evt7                   // A-ASSOCIATE response primitive (accept)
	Evt8                   // A-ASSOCIATE response primitive (reject)
	Evt9                   // P-DATA request primitive
	Evt10                  // P-DATA-TF PDU received
	Evt11                  // A-RELEASE request primitive
	Evt12                  // A-RELEASE-RQ PDU received
	Evt13                  // A-RELEASE-RP PDU received
	Evt14                  // A-RELEASE response primitive
	Evt15                  // A-ABORT request primitive
	Evt16                  // A-ABORT PDU received
	Evt17                  // Transport connection closed indication
	Evt18                  // ARTIM timer expired
	Evt19                  // Unrecognized or invalid PDU received
)

var eventNames = [...]string{
	Evt1: "A-ASSOCIATE request", Evt2: "transport connect confirmation", Evt3: "A-ASSOCIATE-AC PDU received",
	Evt4: "A-ASSOCIATE-RJ PDU received", Evt5: "transport connection indication", Evt6: "A-ASSOCIATE-RQ PDU received",
	Evt7: "A-ASSOCIATE response (accept)", Evt8: "A-ASSOCIATE response (reject)", Evt9: "P-DATA request",
	Evt10: "P-DATA-TF PDU received", Evt11: "A-RELEASE request", Evt12: "A-RELEASE-RQ PDU received",
	Evt13: "A-RELEASE-RP PDU received", Evt14: "A-RELEASE response", Evt15: "A-ABORT request",
	Evt16: "A-ABORT PDU received", Evt17: "transport connection closed", Evt18: "ARTIM timer expired",
	Evt19: "unrecognized or invalid PDU received",
}

func (e Event) String() string {
	if int(e) < len(eventNames) && eventNames[e] != "" {
		return fmt.Sprintf("Evt%d (%s)", uint8(e), eventNames[e])
	}
	return fmt.Sprintf("Evt%d", uint8(e))
}

// Action is an action of the state machine (AE-n, DT-n, AR-n, AA-n).
type Action uint8

// Actions of PS3.8 table 9-7 .. 9-9. The zero Action means "no entry":
// that (state, event) pair is not allowed.
const (
	noAction Action = iota
	AE1             // Issue TRANSPORT CONNECT request primitive -> Sta4
	AE2             // Send A-ASSOCIATE-RQ PDU -> Sta5
	AE3             // Issue A-ASSOCIATE confirmation (accept) -> Sta6
	AE4             // Issue A-ASSOCIATE confirmation (reject), close transport -> Sta1
	AE5             // Issue transport connection response, start ARTIM -> Sta2
	AE6             // Stop ARTIM; if acceptable issue A-ASSOCIATE indication -> Sta3, else send A-ASSOCIATE-RJ, start ARTIM -> Sta13
	AE7             // Send A-ASSOCIATE-AC PDU -> Sta6
	AE8             // Send A-ASSOCIATE-RJ PDU, start ARTIM -> Sta13
	DT1             // Send P-DATA-TF PDU -> Sta6
	DT2             // Send P-DATA indication -> Sta6
	AR1             // Send A-RELEASE-RQ PDU -> Sta7
	AR2             // Issue A-RELEASE indication -> Sta8
	AR3             // Issue A-RELEASE confirmation, close transport -> Sta1
	AR4             // Issue A-RELEASE-RP PDU, start ARTIM -> Sta13
	AR5             // Stop ARTIM -> Sta1
	AR6             // Issue P-DATA indication -> Sta7
	AR7             // Issue P-DATA-TF PDU -> Sta8
	AR8             // Issue A-RELEASE indication (release collision): requestor -> Sta9, acceptor -> Sta10
	AR9             // Send A-RELEASE-RP PDU -> Sta11
	AR10            // Issue A-RELEASE confirmation -> Sta12
	AA1             // Send A-ABORT PDU (service-user source), start/restart ARTIM -> Sta13
	AA2             // Stop ARTIM if running, close transport -> Sta1
	AA3             // Issue A-ABORT (user source) or A-P-ABORT indication, close transport -> Sta1
	AA4             // Issue A-P-ABORT indication -> Sta1
	AA5             // Stop ARTIM -> Sta1
	AA6             // Ignore PDU -> Sta13
	AA7             // Send A-ABORT PDU -> Sta13
	AA8             // Send A-ABORT PDU (service-provider source), issue A-P-ABORT indication, start ARTIM -> Sta13
	numActions
)

var actionNames = [numActions]string{
	AE1: "AE-1", AE2: "AE-2", AE3: "AE-3", AE4: "AE-4", AE5: "AE-5", AE6: "AE-6", AE7: "AE-7", AE8: "AE-8",
	DT1: "DT-1", DT2: "DT-2",
	AR1: "AR-1", AR2: "AR-2", AR3: "AR-3", AR4: "AR-4", AR5: "AR-5", AR6: "AR-6", AR7: "AR-7", AR8: "AR-8",
	AR9: "AR-9", AR10: "AR-10",
	AA1: "AA-1", AA2: "AA-2", AA3: "AA-3", AA4: "AA-4", AA5: "AA-5", AA6: "AA-6", AA7: "AA-7", AA8: "AA-8",
}

func (a Action) String() string {
	if a > noAction && a < numActions {
		return actionNames[a]
	}
	return "no action"
}

// actionNext is the next state of each action. AE-6 and AR-8 choose
// between two states at run time; the value here is their first choice.
var actionNext = [numActions]State{
	AE1: Sta4, AE2: Sta5, AE3: Sta6, AE4: Sta1, AE5: Sta2, AE6: Sta3, AE7: Sta6, AE8: Sta13,
	DT1: Sta6, DT2: Sta6,
	AR1: Sta7, AR2: Sta8, AR3: Sta1, AR4: Sta13, AR5: Sta1, AR6: Sta7, AR7: Sta8, AR8: Sta9, AR9: Sta11, AR10: Sta12,
	AA1: Sta13, AA2: Sta1, AA3: Sta1, AA4: Sta1, AA5: Sta1, AA6: Sta13, AA7: Sta13, AA8: Sta13,
}

// transitions is PS3.8 table 9-10: transitions[event][state] is the action.
// Columns are Sta1..Sta13 (index 0 unused). A zero entry is not allowed.
var transitions = [20][14]Action{
	//        Sta1 Sta2 Sta3 Sta4 Sta5 Sta6 Sta7 Sta8 Sta9 Sta10 Sta11 Sta12 Sta13
	Evt1:  {0, AE1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	Evt2:  {0, 0, 0, 0, AE2, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	Evt3:  {0, 0, AA1, AA8, 0, AE3, AA8, AA8, AA8, AA8, AA8, AA8, AA8, AA6},
	Evt4:  {0, 0, AA1, AA8, 0, AE4, AA8, AA8, AA8, AA8, AA8, AA8, AA8, AA6},
	Evt5:  {0, AE5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	Evt6:  {0, 0, AE6, AA8, 0, AA8, AA8, AA8, AA8, AA8, AA8, AA8, AA8, AA7},
	Evt7:  {0, 0, 0, AE7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	Evt8:  {0, 0, 0, AE8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	Evt9:  {0, 0, 0, 0, 0, 0, DT1, 0, AR7, 0, 0, 0, 0, 0},
	Evt10: {0, 0, AA1, AA8, 0, AA8, DT2, AR6, AA8, AA8, AA8, AA8, AA8, AA6},
	Evt11: {0, 0, 0, 0, 0, 0, AR1, 0, 0, 0, 0, 0, 0, 0},
	Evt12: {0, 0, AA1, AA8, 0, AA8, AR2, AR8, AA8, AA8, AA8, AA8, AA8, AA6},
	Evt13: {0, 0, AA1, AA8, 0, AA8, AA8, AR3, AA8, AA8, AR10, AR3, AA8, AA6},
	Evt14: {0, 0, 0, 0, 0, 0, 0, 0, AR4, AR9, 0, 0, AR4, 0},
	Evt15: {0, 0, 0, AA1, AA2, AA1, AA1, AA1, AA1, AA1, AA1, AA1, AA1, 0},
	Evt16: {0, 0, AA2, AA3, 0, AA3, AA3, AA3, AA3, AA3, AA3, AA3, AA3, AA2},
	Evt17: {0, 0, AA5, AA4, AA4, AA4, AA4, AA4, AA4, AA4, AA4, AA4, AA4, AR5},
	Evt18: {0, 0, AA2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, AA2},
	Evt19: {0, 0, AA1, AA8, 0, AA8, AA8, AA8, AA8, AA8, AA8, AA8, AA8, AA7},
}

// Transition returns the action for (s, e) and whether the pair has an
// entry in table 9-10.
func Transition(s State, e Event) (Action, bool) {
	if s < Sta1 || s > Sta13 || e < Evt1 || e > Evt19 {
		return noAction, false
	}
	a := transitions[e][s]
	return a, a != noAction
}
