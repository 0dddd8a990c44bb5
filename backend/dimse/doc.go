// Package dimse is the DICOM message exchange (PS3.7) on top of package ul:
// command sets in Implicit VR Little Endian with their group length,
// message IDs, the status table, and the C-ECHO, C-STORE, C-FIND, C-MOVE,
// C-GET and C-CANCEL requests and responses.
//
// Data sets are never parsed here and never held whole. Sending, a data
// set is read from an io.Reader straight into one buffer of P-DATA-TF
// PDUs framed in place (a 256 KB batch, or one PDU if larger; fragments
// sized to the peer's maximum PDU length), each batch sent in one write;
// one byte read ahead tells which fragment is the last. Receiving, Message.Data hands the fragments to the caller as
// they arrive (an io.Reader that is also an io.WriterTo, so io.Copy to a
// file does not copy twice).
//
// Transport failures and DIMSE statuses are kept apart: a request that
// got a response returns that response's Status (a value, perhaps
// Failure) and a nil error; an error means no usable response
// (*ul.AbortError, ul.ErrConnectionClosed, a DIMSE timeout as
// *ul.TimeoutError, which also aborts the association, ErrProtocol).
//
// SCU: Conn.Echo, Store, Find (pending matches streamed to a callback),
// Move (pending sub-operation counts), Get (C-STORE sub-operations served
// on the same association by a Handler), with C-CANCEL through a channel.
// SCP: a Mux dispatches requests by abstract syntax to Handlers, one at a
// time per association, and cancels a running handler's context on
// C-CANCEL. A handler panic answers 0x0110 and the association lives on.
//
// Roles: a request (on the Mux, or a C-GET sub-operation during Get) is
// served only on a presentation context where this side may act as SCP
// after role selection (ul.Context.SCP); otherwise it is answered with
// 0x0122 (SOP class not supported, "role selection" in the error
// comment), its data set discarded, and the association goes on. A
// C-CANCEL-RQ from a peer that is not the SCU there is ignored.
//
// Concurrency: Conn.WriteMessage may be called from several goroutines
// (messages never interleave); reading (ReadMessage and the request
// helpers) belongs to one goroutine at a time. A Conn does not own its
// association; whoever dialled or accepted it releases it.
package dimse
