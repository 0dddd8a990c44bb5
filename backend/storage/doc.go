// Package storage is the Storage service class (PS3.4 annex B) on top of
// the network engine (packages ul and dimse) and the local store: the
// table of storage SOP classes, the transfer-syntax policies of the SCP,
// the C-STORE SCP handler that streams objects into the store, the
// per-association activity of the listener, and the C-STORE SCU engine
// that sends stored instances to a node.
//
// Receiving (SCP). SCP implements dimse.Handler. For each C-STORE-RQ it
// has the sink start a Part 10 file from a File Meta header (the context's
// transfer syntax, the command's SOP Class/Instance UIDs, the calling AE
// title as Source AE, Lightbox's implementation UID and version; the
// store adds its seal, see store.NewPart10), then streams the data set
// from the wire into it byte for byte, and commits BEFORE it returns the
// status: Success is only ever answered for durable data (with the
// store's fsync on: data synced, and its name in the object tree synced)
// and indexed (store.Expect.Indexed: the status waits for the
// index rows, which the store's background indexer commits with those of
// concurrent associations in one transaction; a crash after the sync and
// before the rows is repaired by the store's reconcile, see package store). A
// data set cut short (abort, lost connection) leaves no file and no row. Status mapping (PS3.4 B.2.3):
// store.ErrNoSpace → 0xA700, store.ErrMismatch → 0xA900, unparsable data
// (dcm.ErrMalformed, dcm.ErrNotDICOM, store.ErrInvalid) → 0xC000, anything
// else → 0x0110. The SCP learns the calling AE and peer address from the
// context set up by Activity.Track (wrap the dimse.Mux with it before
// giving it to ul.NewServer), else from dimse.Message.Peer; only Track
// lets the activity see an association start and end.
//
// Negotiation policy. Image SOP classes accept the 13 image transfer
// syntaxes, non-image classes Implicit/Explicit VR LE and Deflate (see
// Policies). By default the choice is the sender's: the first syntax it
// proposes in a context that we accept (ul.SyntaxPolicy.RequestorOrder), so
// a sender that proposes its own compression keeps it and we store it
// verbatim. PreferUncompressed makes the choice ours instead, in the order
// Explicit LE, Implicit LE, Explicit BE, Deflate, then the compressed ones.
//
// Sending (SCU). Send carries many instances over one association per
// batch (a batch needs at most 128 presentation contexts), with up to
// Target.MaxAssociations associations in parallel. For each SOP class and
// file transfer syntax it proposes the file's own syntax first, then
// Explicit VR LE and Implicit VR LE, each in its own presentation context.
// When the accepted syntax is the file's, the data set bytes are streamed
// verbatim from the file; otherwise the data set is re-encoded (Transcode):
// compressed pixel data is decoded with package pixel and written native,
// never as compressed bytes on an uncompressed context. An instance counts
// as sent only after a Success or Warning response; a transport failure
// stops the whole job and reports what is left.
//
// Concurrency: SCP, Activity and Limiter are safe for concurrent use. Send
// may be called concurrently; it returns when every association it opened
// has ended. Nothing here closes the store.
package storage
