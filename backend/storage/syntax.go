package storage

import (
	"lightbox/backend/dcm"
	"lightbox/backend/dimse"
	"lightbox/backend/ul"
)

// SOPClass is one storage SOP class of the conformance statement.
type SOPClass struct {
	Name  string
	UID   string
	Image bool // image storage: accepts the compressed transfer syntaxes
}

// SOPClasses returns the storage SOP classes (a copy).
func SOPClasses() []SOPClass { return append([]SOPClass(nil), sopClasses...) }

// LookupSOPClass returns the SOP class with that UID.
func LookupSOPClass(uid string) (SOPClass, bool) {
	for _, c := range sopClasses {
		if c.UID == uid {
			return c, true
		}
	}
	return SOPClass{}, false
}

// compressedImageTS are the encapsulated image transfer syntaxes, in the
// order of the conformance statement.
var compressedImageTS = []string{
	dcm.JPEGBaseline, dcm.JPEGExtended, dcm.JPEGLossless, dcm.JPEGLosslessSV1,
	dcm.JPEGLSLossless, dcm.JPEGLSNearLossless, dcm.JPEG2000Lossless, dcm.JPEG2000, dcm.RLELossless,
}

// TransferSyntaxes returns what the SCP accepts for a SOP class kind, in
// the order handed to ul (see the package comment for the choice rule).
func TransferSyntaxes(image, preferUncompressed bool) []string {
	var out []string
	if preferUncompressed {
		out = append(out, dcm.ExplicitVRLittleEndian, dcm.ImplicitVRLittleEndian)
		if image {
			out = append(out, dcm.ExplicitVRBigEndian)
		}
		out = append(out, dcm.DeflatedExplicitVRLE)
		if image {
			out = append(out, compressedImageTS...)
		}
		return out
	}
	if image {
		out = append(out, compressedImageTS...)
	}
	out = append(out, dcm.DeflatedExplicitVRLE, dcm.ExplicitVRLittleEndian)
	if image {
		out = append(out, dcm.ExplicitVRBigEndian)
	}
	return append(out, dcm.ImplicitVRLittleEndian)
}

// Policies returns the SCP syntax policy of every storage SOP class.
// Without preferUncompressed the sender's order of preference decides.
func Policies(preferUncompressed bool) map[string]ul.SyntaxPolicy {
	img := ul.SyntaxPolicy{TransferSyntaxes: TransferSyntaxes(true, preferUncompressed), RequestorOrder: !preferUncompressed}
	non := ul.SyntaxPolicy{TransferSyntaxes: TransferSyntaxes(false, preferUncompressed), RequestorOrder: !preferUncompressed}
	out := make(map[string]ul.SyntaxPolicy, len(sopClasses))
	for _, c := range sopClasses {
		if c.Image {
			out[c.UID] = img
		} else {
			out[c.UID] = non
		}
	}
	return out
}

// Register registers h for every storage SOP class on mux and returns the
// syntax policies to put in ul.Policy.Syntaxes.
func Register(mux *dimse.Mux, h dimse.Handler, preferUncompressed bool) map[string]ul.SyntaxPolicy {
	for _, c := range sopClasses {
		mux.Handle(c.UID, h)
	}
	return Policies(preferUncompressed)
}
