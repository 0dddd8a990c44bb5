// Package dcm is Lightbox's own small DICOM data set layer: it parses Part 10
// files and raw data sets into elements that keep their value bytes exactly
// as stored, and writes File Meta Information.
//
// Contract:
//   - Parsing never decodes text: a value is its raw bytes, in the byte order
//     of the transfer syntax. Character sets are decoded by the caller with
//     package charset, which needs exactly these raw bytes.
//   - Large values (Pixel Data and any value over Options.MaxInline bytes) are
//     not loaded: the element records their offset and length in the data
//     set source (File.Source), so a 1 GB multi-frame file is never read
//     whole. Encapsulated Pixel Data is recorded as its fragments, the Basic
//     Offset Table included (item 0).
//   - Every length read from the input is checked against what is left of
//     the input before anything is allocated; malformed input ends in an
//     error wrapping ErrMalformed (or ErrNotDICOM), never a panic.
//   - A parsed File is immutable and safe for concurrent readers. File.Source
//     is valid as long as the io.ReaderAt handed to Parse is (ParseFile keeps
//     an *os.File open: call File.Close).
package dcm

import (
	"errors"
	"fmt"
)

// Tag is a data element tag, group<<16 | element.
type Tag uint32

// NewTag builds a tag from its group and element numbers.
func NewTag(group, element uint16) Tag { return Tag(uint32(group)<<16 | uint32(element)) }

// Group returns the group number.
func (t Tag) Group() uint16 { return uint16(t >> 16) }

// Element returns the element number.
func (t Tag) Element() uint16 { return uint16(t) }

func (t Tag) String() string { return fmt.Sprintf("(%04X,%04X)", t.Group(), t.Element()) }

// Sentinel errors.
var (
	// ErrNotDICOM: the input is not a DICOM file or data set at all.
	ErrNotDICOM = errors.New("not a DICOM file")
	// ErrMalformed: the input starts like DICOM but breaks the encoding rules
	// (a length past the end, a bad item, nesting too deep...).
	ErrMalformed = errors.New("malformed DICOM")
)

// Undefined is the undefined length 0xFFFFFFFF.
const Undefined = 0xFFFFFFFF

// Well-known tags.
const (
	TagFileMetaGroupLength          Tag = 0x00020000
	TagFileMetaVersion              Tag = 0x00020001
	TagMediaStorageSOPClassUID      Tag = 0x00020002
	TagMediaStorageSOPInstanceUID   Tag = 0x00020003
	TagTransferSyntaxUID            Tag = 0x00020010
	TagImplementationClassUID       Tag = 0x00020012
	TagImplementationVersionName    Tag = 0x00020013
	TagSourceApplicationEntity      Tag = 0x00020016
	TagPrivateInformationCreatorUID Tag = 0x00020100
	TagPrivateInformation           Tag = 0x00020102

	TagSpecificCharacterSet   Tag = 0x00080005
	TagImageType              Tag = 0x00080008
	TagSOPClassUID            Tag = 0x00080016
	TagSOPInstanceUID         Tag = 0x00080018
	TagStudyDate              Tag = 0x00080020
	TagSeriesDate             Tag = 0x00080021
	TagStudyTime              Tag = 0x00080030
	TagAccessionNumber        Tag = 0x00080050
	TagModality               Tag = 0x00080060
	TagInstitutionName        Tag = 0x00080080
	TagReferringPhysicianName Tag = 0x00080090
	TagStudyDescription       Tag = 0x00081030
	TagSeriesDescription      Tag = 0x0008103E
	TagPatientName            Tag = 0x00100010
	TagPatientID              Tag = 0x00100020
	TagPatientBirthDate       Tag = 0x00100030
	TagPatientSex             Tag = 0x00100040
	TagPatientAge             Tag = 0x00101010
	TagBodyPartExamined       Tag = 0x00180015
	TagSliceThickness         Tag = 0x00180050
	TagRecommendedFrameRate   Tag = 0x00082144
	TagFrameTime              Tag = 0x00181063
	TagImagerPixelSpacing     Tag = 0x00181164
	TagStudyInstanceUID       Tag = 0x0020000D
	TagSeriesInstanceUID      Tag = 0x0020000E
	TagStudyID                Tag = 0x00200010
	TagSeriesNumber           Tag = 0x00200011
	TagInstanceNumber         Tag = 0x00200013
	TagImagePositionPatient   Tag = 0x00200032
	TagImageOrientation       Tag = 0x00200037
	TagFrameOfReferenceUID    Tag = 0x00200052
	TagSliceLocation          Tag = 0x00201041
	TagSamplesPerPixel        Tag = 0x00280002
	TagPhotometric            Tag = 0x00280004
	TagPlanarConfiguration    Tag = 0x00280006
	TagNumberOfFrames         Tag = 0x00280008
	TagRows                   Tag = 0x00280010
	TagColumns                Tag = 0x00280011
	TagPixelSpacing           Tag = 0x00280030
	TagBitsAllocated          Tag = 0x00280100
	TagBitsStored             Tag = 0x00280101
	TagHighBit                Tag = 0x00280102
	TagPixelRepresentation    Tag = 0x00280103
	TagWindowCenter           Tag = 0x00281050
	TagWindowWidth            Tag = 0x00281051
	TagRescaleIntercept       Tag = 0x00281052
	TagRescaleSlope           Tag = 0x00281053
	TagRescaleType            Tag = 0x00281054
	TagWindowExplanation      Tag = 0x00281055
	TagVOILUTFunction         Tag = 0x00281056
	TagRedPaletteDescriptor   Tag = 0x00281101
	TagGreenPaletteDescriptor Tag = 0x00281102
	TagBluePaletteDescriptor  Tag = 0x00281103
	TagRedPaletteData         Tag = 0x00281201
	TagGreenPaletteData       Tag = 0x00281202
	TagBluePaletteData        Tag = 0x00281203
	TagSegRedPaletteData      Tag = 0x00281221
	TagSegGreenPaletteData    Tag = 0x00281222
	TagSegBluePaletteData     Tag = 0x00281223
	TagModalityLUTSequence    Tag = 0x00283000
	TagVOILUTSequence         Tag = 0x00283010
	TagLUTDescriptor          Tag = 0x00283002
	TagLUTData                Tag = 0x00283006
	TagPresentationLUTShape   Tag = 0x20500020
	TagExtendedOffsetTable    Tag = 0x7FE00001
	TagExtendedOffsetLengths  Tag = 0x7FE00002
	TagPixelData              Tag = 0x7FE00010
	TagItem                   Tag = 0xFFFEE000
	TagItemDelimitation       Tag = 0xFFFEE00D
	TagSequenceDelimitation   Tag = 0xFFFEE0DD
)
