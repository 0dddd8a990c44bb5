package store

import "time"

// Patient is one row per (Patient ID, name, birth date) as the files say.
type Patient struct {
	ID        uint   `gorm:"primaryKey"`
	Key       string `gorm:"uniqueIndex;not null"` // hash of the identifying attributes
	PatientID string `gorm:"index"`
	Name      string // UTF-8, decoded by the file's own character set
	BirthDate string
	Sex       string
}

// Study is a study in the local store.
type Study struct {
	ID                 uint    `gorm:"primaryKey"`
	StudyInstanceUID   string  `gorm:"uniqueIndex;not null"`
	PatientRef         uint    `gorm:"index"`
	Patient            Patient `gorm:"foreignKey:PatientRef"`
	StudyDate          string  `gorm:"index"`
	StudyTime          string
	StudyID            string
	Description        string
	AccessionNumber    string `gorm:"index"`
	ReferringPhysician string
	Modalities         string // backslash-separated, derived from the series
	NumSeries          int
	NumInstances       int
	ReceivedAt         time.Time
}

// Series is a series of a study.
type Series struct {
	ID                uint   `gorm:"primaryKey"`
	SeriesInstanceUID string `gorm:"uniqueIndex;not null"`
	StudyRef          uint   `gorm:"index"`
	Modality          string
	SeriesNumber      int
	Description       string
	BodyPart          string
	NumInstances      int
}

// Instance is one stored object.
type Instance struct {
	ID                uint   `gorm:"primaryKey"`
	SOPInstanceUID    string `gorm:"uniqueIndex;not null"`
	SeriesRef         uint   `gorm:"index"`
	SOPClassUID       string
	TransferSyntaxUID string
	InstanceNumber    int
	SliceLocation     float64 // position along the normal, for sorting
	Rows              int
	Columns           int
	Frames            int
	Path              string // relative to the objects directory
	Size              int64
	SHA256            string // of the content from ContentFrom; empty: not computed (compare the files)
	ContentFrom       int64  // offset of the content compared for duplicates (after a File Meta header the receiver wrote)
	Source            string // import path or "AE:<calling AE>@host"
	ReceivedAt        time.Time
}

// Annotation holds the viewer's measurements for a study (opaque JSON).
type Annotation struct {
	StudyInstanceUID string `gorm:"primaryKey"`
	JSON             string
	UpdatedAt        time.Time
}

// Setting is a key/value pair of user settings.
type Setting struct {
	Key   string `gorm:"primaryKey"`
	Value string
}
