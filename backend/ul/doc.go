// Package ul is the DICOM upper layer (PS3.8): the protocol machine, and
// associations over TCP for both roles.
//
// The protocol machine is table 9-10 of PS3.8 written as data
// (transitions[event][state] → action), in the standard's vocabulary:
// states Sta1..Sta13, events Evt1..Evt19, actions AE-n, DT-n, AR-n, AA-n.
// A (state, event) pair without an entry is refused with ErrInvalidState
// for local primitives; for PDUs from the network every reachable pair
// has an entry (unexpected ones abort with AA-1/AA-7/AA-8). Debug logs
// name transitions the same way ("Sta6 + Evt12 → AR-2 → Sta8") and
// summarise PDUs ("A-ASSOCIATE-RQ calling=... called=..."); no data set
// content is ever logged.
//
// SCU side: Dial proposes presentation contexts (with role selection when
// asked) and returns an established *Association or an error that reads
// well: *DialError, *RejectError (result/source/reason in words),
// *AbortError, *NoContextError, *TimeoutError.
//
// SCP side: a Server accepts connections on a net.Listener, negotiates
// under a Policy (called-AE check, calling-AE allow-list, accepted
// abstract syntaxes, the transfer syntax in our order of preference or,
// with SyntaxPolicy.RequestorOrder, the requestor's, role selection, user
// identity checked by Policy.CheckUserIdentity when set: the server
// response item when asked, A-ASSOCIATE-RJ permanent / ACSE / no reason
// given when refused; association limit → A-ASSOCIATE-RJ transient "local
// limit exceeded"), then runs a Handler per association in its own
// goroutine. SetPolicy swaps the policy at run time. An event hook
// reports each association for an activity panel.
//
// This package knows nothing of DIMSE: it moves PDVs. Package dimse
// builds messages on SendPDV / Receive.
//
// Resources are bounded: PDU lengths are checked against limits before
// any allocation (our announced maximum for P-DATA-TF, 1 MB for
// A-ASSOCIATE); received P-DATA PDUs waiting per association are bounded
// to about 512 KB (1 to 64 PDUs; the reader then stops reading: TCP
// back-pressure). Small P-DATA-TF PDUs are decoded in place from 256 KB
// receive chunks and larger ones read straight into pooled buffers of our
// maximum length, so a PData's PDVs alias those buffers until PData.Free;
// senders may frame PDUs in place (SendPData) so that data goes from the
// caller's buffer to the socket in one write. A Server holds at most
// 2×MaxAssociations+8 connections. Garbage on the port (an HTTP request, a
// TLS ClientHello, random bytes) is an invalid PDU: an A-ABORT is sent,
// the connection closed, one warning logged, and the server goes on.
//
// Lifetimes: an Association owns its net.Conn and closes it; Done is
// closed when the association ended and Err says why (ErrReleased after
// an orderly release). Every blocking call takes a context.Context.
// Concurrency rules are on Association.
package ul
