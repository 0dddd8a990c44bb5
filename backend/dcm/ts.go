package dcm

// TransferSyntax describes how a data set is encoded.
type TransferSyntax struct {
	UID          string
	Name         string
	Key          string // short name used in file names and the corpus
	Implicit     bool   // Implicit VR
	BigEndian    bool
	Deflated     bool
	Encapsulated bool // pixel data in fragments
	Lossy        bool
	Image        bool // usable for image storage only (compressed)
}

// Transfer syntax UIDs.
const (
	ImplicitVRLittleEndian = "1.2.840.10008.1.2"
	ExplicitVRLittleEndian = "1.2.840.10008.1.2.1"
	DeflatedExplicitVRLE   = "1.2.840.10008.1.2.1.99"
	ExplicitVRBigEndian    = "1.2.840.10008.1.2.2"
	JPEGBaseline           = "1.2.840.10008.1.2.4.50"
	JPEGExtended           = "1.2.840.10008.1.2.4.51"
	JPEGLossless           = "1.2.840.10008.1.2.4.57"
	JPEGLosslessSV1        = "1.2.840.10008.1.2.4.70"
	JPEGLSLossless         = "1.2.840.10008.1.2.4.80"
	JPEGLSNearLossless     = "1.2.840.10008.1.2.4.81"
	JPEG2000Lossless       = "1.2.840.10008.1.2.4.90"
	JPEG2000               = "1.2.840.10008.1.2.4.91"
	RLELossless            = "1.2.840.10008.1.2.5"
)

var transferSyntaxes = []TransferSyntax{
	{UID: ImplicitVRLittleEndian, Name: "Implicit VR Little Endian", Key: "ile", Implicit: true},
	{UID: ExplicitVRLittleEndian, Name: "Explicit VR Little Endian", Key: "ele"},
	{UID: DeflatedExplicitVRLE, Name: "Deflated Explicit VR Little Endian", Key: "deflate", Deflated: true},
	{UID: ExplicitVRBigEndian, Name: "Explicit VR Big Endian", Key: "ebe", BigEndian: true},
	{UID: JPEGBaseline, Name: "JPEG Baseline (Process 1)", Key: "jpeg-baseline", Encapsulated: true, Lossy: true, Image: true},
	{UID: JPEGExtended, Name: "JPEG Extended (Process 2 & 4)", Key: "jpeg-extended", Encapsulated: true, Lossy: true, Image: true},
	{UID: JPEGLossless, Name: "JPEG Lossless, Non-Hierarchical (Process 14)", Key: "jpeg-lossless", Encapsulated: true, Image: true},
	{UID: JPEGLosslessSV1, Name: "JPEG Lossless, First-Order Prediction (Process 14, SV1)", Key: "jpeg-lossless-sv1", Encapsulated: true, Image: true},
	{UID: JPEGLSLossless, Name: "JPEG-LS Lossless", Key: "jpegls-lossless", Encapsulated: true, Image: true},
	{UID: JPEGLSNearLossless, Name: "JPEG-LS Near-Lossless", Key: "jpegls-near", Encapsulated: true, Lossy: true, Image: true},
	{UID: JPEG2000Lossless, Name: "JPEG 2000 (Lossless Only)", Key: "j2k-lossless", Encapsulated: true, Image: true},
	{UID: JPEG2000, Name: "JPEG 2000", Key: "j2k", Encapsulated: true, Lossy: true, Image: true},
	{UID: RLELossless, Name: "RLE Lossless", Key: "rle", Encapsulated: true, Image: true},
}

// LookupTS returns the transfer syntax with that UID.
func LookupTS(uid string) (TransferSyntax, bool) {
	for _, ts := range transferSyntaxes {
		if ts.UID == uid {
			return ts, true
		}
	}
	return TransferSyntax{}, false
}

// TransferSyntaxes lists every transfer syntax Lightbox knows, in the order
// of the conformance statement (uncompressed first).
func TransferSyntaxes() []TransferSyntax {
	return append([]TransferSyntax(nil), transferSyntaxes...)
}
