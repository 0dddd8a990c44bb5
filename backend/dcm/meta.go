package dcm

import (
	"encoding/binary"
	"io"
)

// MetaInfo is what Lightbox writes as File Meta Information.
type MetaInfo struct {
	SOPClassUID            string
	SOPInstanceUID         string
	TransferSyntaxUID      string
	ImplementationClassUID string
	ImplementationVersion  string
	SourceAE               string // optional
	// Private Information Creator UID (0002,0100) and Private Information
	// (0002,0102), optional (PS3.10 7.1): both are written when the
	// creator is set. They are the group's last elements, so the value of
	// (0002,0102) ends where the data set starts.
	PrivateCreatorUID  string
	PrivateInformation []byte
}

// AppendMeta appends a 128-byte preamble, "DICM", and a complete File Meta
// Information group (Explicit VR Little Endian, with its group length).
func AppendMeta(dst []byte, m MetaInfo) []byte {
	var g []byte
	g = appendExplicit(g, TagFileMetaVersion, "OB", []byte{0, 1})
	g = appendExplicit(g, TagMediaStorageSOPClassUID, "UI", uidBytes(m.SOPClassUID))
	g = appendExplicit(g, TagMediaStorageSOPInstanceUID, "UI", uidBytes(m.SOPInstanceUID))
	g = appendExplicit(g, TagTransferSyntaxUID, "UI", uidBytes(m.TransferSyntaxUID))
	g = appendExplicit(g, TagImplementationClassUID, "UI", uidBytes(m.ImplementationClassUID))
	if m.ImplementationVersion != "" {
		g = appendExplicit(g, TagImplementationVersionName, "SH", padSpace(m.ImplementationVersion))
	}
	if m.SourceAE != "" {
		g = appendExplicit(g, TagSourceApplicationEntity, "AE", padSpace(m.SourceAE))
	}
	if m.PrivateCreatorUID != "" {
		g = appendExplicit(g, TagPrivateInformationCreatorUID, "UI", uidBytes(m.PrivateCreatorUID))
		v := m.PrivateInformation
		if len(v)%2 == 1 {
			v = append(v[:len(v):len(v)], 0)
		}
		g = appendExplicit(g, TagPrivateInformation, "OB", v)
	}
	dst = append(dst, make([]byte, 128)...)
	dst = append(dst, "DICM"...)
	var gl [4]byte
	binary.LittleEndian.PutUint32(gl[:], uint32(len(g)))
	dst = appendExplicit(dst, TagFileMetaGroupLength, "UL", gl[:])
	return append(dst, g...)
}

// WriteMeta writes what AppendMeta appends.
func WriteMeta(w io.Writer, m MetaInfo) (int, error) {
	return w.Write(AppendMeta(nil, m))
}

func uidBytes(s string) []byte {
	b := []byte(s)
	if len(b)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

func padSpace(s string) []byte {
	b := []byte(s)
	if len(b)%2 == 1 {
		b = append(b, ' ')
	}
	return b
}

func appendExplicit(dst []byte, t Tag, vr string, v []byte) []byte {
	var h [12]byte
	binary.LittleEndian.PutUint16(h[0:], t.Group())
	binary.LittleEndian.PutUint16(h[2:], t.Element())
	copy(h[4:6], vr)
	if longVR(vr) {
		binary.LittleEndian.PutUint32(h[8:], uint32(len(v)))
		dst = append(dst, h[:12]...)
	} else {
		binary.LittleEndian.PutUint16(h[6:], uint16(len(v)))
		dst = append(dst, h[:8]...)
	}
	return append(dst, v...)
}

// AppendElement appends one element with a short or long explicit VR
// header in Little Endian; used to build small data sets (e.g. C-FIND
// identifiers) when combined with AppendImplicit.
func AppendElement(dst []byte, implicit bool, t Tag, vr string, v []byte) []byte {
	if len(v)%2 == 1 {
		pad := byte(' ')
		if vr == "UI" || vr == "OB" || vr == "UN" {
			pad = 0
		}
		v = append(append([]byte(nil), v...), pad)
	}
	if !implicit {
		return appendExplicit(dst, t, vr, v)
	}
	var h [8]byte
	binary.LittleEndian.PutUint16(h[0:], t.Group())
	binary.LittleEndian.PutUint16(h[2:], t.Element())
	binary.LittleEndian.PutUint32(h[4:], uint32(len(v)))
	return append(append(dst, h[:]...), v...)
}
