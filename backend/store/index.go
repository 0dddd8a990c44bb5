package store

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"sort"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"lightbox/backend/dcm"
)

type extracted struct {
	patient Patient
	study   Study
	series  Series
	inst    Instance
}

// extract reads what the index needs and checks that the object is usable.
func extract(f *dcm.File, text TextDecoder) (*extracted, error) {
	ds := f.DataSet
	x := &extracted{}
	x.inst.SOPInstanceUID = ds.UID(dcm.TagSOPInstanceUID)
	x.inst.SOPClassUID = ds.UID(dcm.TagSOPClassUID)
	if f.Meta != nil {
		if x.inst.SOPInstanceUID == "" {
			x.inst.SOPInstanceUID = f.Meta.UID(dcm.TagMediaStorageSOPInstanceUID)
		}
		if x.inst.SOPClassUID == "" {
			x.inst.SOPClassUID = f.Meta.UID(dcm.TagMediaStorageSOPClassUID)
		}
	}
	x.study.StudyInstanceUID = ds.UID(dcm.TagStudyInstanceUID)
	x.series.SeriesInstanceUID = ds.UID(dcm.TagSeriesInstanceUID)
	// Study and Series Instance UID may be missing (some test and legacy
	// objects): such objects are grouped under an empty UID.
	if x.inst.SOPInstanceUID == "" {
		return nil, fmt.Errorf("%w: no SOP Instance UID", ErrInvalid)
	}
	for name, v := range map[string]string{"SOP Instance UID": x.inst.SOPInstanceUID, "Study Instance UID": x.study.StudyInstanceUID,
		"Series Instance UID": x.series.SeriesInstanceUID} {
		if len(v) > 64 {
			return nil, fmt.Errorf("%w: %s longer than 64 characters", ErrInvalid, name)
		}
	}
	if err := checkImage(f); err != nil {
		return nil, err
	}
	x.patient.PatientID = text(ds, dcm.TagPatientID)
	x.patient.Name = text(ds, dcm.TagPatientName)
	x.patient.BirthDate = ds.Text(dcm.TagPatientBirthDate)
	x.patient.Sex = ds.Text(dcm.TagPatientSex)
	k := sha256.Sum256([]byte(x.patient.PatientID + "\x00" + x.patient.Name + "\x00" + x.patient.BirthDate))
	x.patient.Key = hex.EncodeToString(k[:16])
	x.study.StudyDate = ds.Text(dcm.TagStudyDate)
	x.study.StudyTime = ds.Text(dcm.TagStudyTime)
	x.study.StudyID = text(ds, dcm.TagStudyID)
	x.study.Description = text(ds, dcm.TagStudyDescription)
	x.study.AccessionNumber = text(ds, dcm.TagAccessionNumber)
	x.study.ReferringPhysician = text(ds, dcm.TagReferringPhysicianName)
	x.series.Modality = ds.Text(dcm.TagModality)
	x.series.SeriesNumber = ds.IntOr(dcm.TagSeriesNumber, 0)
	x.series.Description = text(ds, dcm.TagSeriesDescription)
	x.series.BodyPart = ds.Text(dcm.TagBodyPartExamined)
	x.inst.TransferSyntaxUID = f.TransferSyntax.UID
	x.inst.InstanceNumber = ds.IntOr(dcm.TagInstanceNumber, 0)
	x.inst.Rows = ds.IntOr(dcm.TagRows, 0)
	x.inst.Columns = ds.IntOr(dcm.TagColumns, 0)
	x.inst.Frames = ds.IntOr(dcm.TagNumberOfFrames, 1)
	if x.inst.Rows == 0 {
		x.inst.Frames = 0
	}
	x.inst.SliceLocation = slicePosition(ds)
	return x, nil
}

// slicePosition is the position along the slice normal (for sorting).
func slicePosition(ds *dcm.DataSet) float64 {
	pos, ori := ds.Floats(dcm.TagImagePositionPatient), ds.Floats(dcm.TagImageOrientation)
	if len(pos) == 3 && len(ori) == 6 {
		n := [3]float64{ori[1]*ori[5] - ori[2]*ori[4], ori[2]*ori[3] - ori[0]*ori[5], ori[0]*ori[4] - ori[1]*ori[3]}
		return pos[0]*n[0] + pos[1]*n[1] + pos[2]*n[2]
	}
	if v, ok := ds.Float(dcm.TagSliceLocation); ok {
		return v
	}
	return math.NaN()
}

// checkImage rejects images whose pixel description is impossible.
func checkImage(f *dcm.File) error {
	ds := f.DataSet
	px := ds.Get(dcm.TagPixelData)
	if px == nil {
		return nil
	}
	rows, cols := ds.IntOr(dcm.TagRows, 0), ds.IntOr(dcm.TagColumns, 0)
	ba, bs := ds.IntOr(dcm.TagBitsAllocated, 0), ds.IntOr(dcm.TagBitsStored, 0)
	spp, frames := ds.IntOr(dcm.TagSamplesPerPixel, 1), ds.IntOr(dcm.TagNumberOfFrames, 1)
	switch {
	case rows <= 0 || cols <= 0:
		return fmt.Errorf("%w: image with %d rows and %d columns", ErrInvalid, rows, cols)
	case ba != 1 && ba != 8 && ba != 16 && ba != 32:
		return fmt.Errorf("%w: Bits Allocated %d", ErrInvalid, ba)
	case bs < 1 || bs > ba:
		return fmt.Errorf("%w: Bits Stored %d with Bits Allocated %d", ErrInvalid, bs, ba)
	case spp != 1 && spp != 3:
		return fmt.Errorf("%w: Samples per Pixel %d", ErrInvalid, spp)
	case frames < 1:
		return fmt.Errorf("%w: Number of Frames %d", ErrInvalid, frames)
	}
	if px.Encapsulated() {
		if len(px.Fragments) < 2 {
			return fmt.Errorf("%w: encapsulated pixel data without fragments", ErrInvalid)
		}
		return nil
	}
	need := int64(rows) * int64(cols) * int64(spp) * int64(frames) * int64(ba)
	if spp == 3 && strings.HasPrefix(ds.Text(dcm.TagPhotometric), "YBR_FULL_422") {
		need = need * 2 / 3 // two chroma samples shared by each pair of pixels
	}
	need = (need + 7) / 8
	if int64(px.Length) < need {
		return fmt.Errorf("%w: pixel data has %d bytes, the image needs %d", ErrInvalid, px.Length, need)
	}
	return nil
}

// idCache maps patient keys, Study and Series Instance UIDs to row IDs so
// that indexing an object of a known series costs no lookups. It is used
// and changed only under wmu, and reset whenever rows may have gone
// (delete, recount, a failed transaction).
type idCache struct {
	patients map[string]uint
	studies  map[string]uint
	series   map[string]seriesIDs
}

type seriesIDs struct{ id, study uint }

func (c *idCache) reset() { *c = idCache{} }

func (c *idCache) init() {
	if c.patients == nil {
		c.patients, c.studies, c.series = map[string]uint{}, map[string]uint{}, map[string]seriesIDs{}
	}
}

// index writes the rows of one object in its own transaction. Caller holds wmu.
func (s *Store) index(x *extracted, exists bool, old Instance) error {
	err := s.db.Transaction(func(tx *gorm.DB) error { return s.indexTx(tx, x, exists, old, nil) })
	if err != nil {
		s.ids.reset()
	}
	return err
}

// rowBatch defers the writes of new instances of known series within one
// transaction: their rows are inserted together and the counters of their
// series and studies raised once each (flush). Anything that reads or
// recounts rows flushes it first.
type rowBatch struct {
	insts   []*Instance
	series  map[uint]int // series ID -> instances to add
	studies map[uint]int // study ID -> instances to add
}

func (b *rowBatch) add(in *Instance, series, study uint) {
	if b.series == nil {
		b.series, b.studies = map[uint]int{}, map[uint]int{}
	}
	b.insts = append(b.insts, in)
	b.series[series]++
	b.studies[study]++
}

func (b *rowBatch) flush(tx *gorm.DB) error {
	if b == nil || len(b.insts) == 0 {
		return nil
	}
	if err := tx.CreateInBatches(b.insts, 100).Error; err != nil {
		return err
	}
	for id, n := range b.series {
		if err := tx.Exec("UPDATE series SET num_instances = num_instances + ? WHERE id = ?", n, id).Error; err != nil {
			return err
		}
	}
	for id, n := range b.studies {
		if err := tx.Exec("UPDATE studies SET num_instances = num_instances + ? WHERE id = ?", n, id).Error; err != nil {
			return err
		}
	}
	b.insts = b.insts[:0]
	clear(b.series)
	clear(b.studies)
	return nil
}

// indexTx writes the rows of one object inside tx. Counts are updated
// incrementally for a new instance; a replacement recounts. With b, a new
// instance of a known series is deferred to b (flushed by the caller
// before the transaction ends). Caller holds wmu and resets s.ids if tx
// rolls back.
func (s *Store) indexTx(tx *gorm.DB, x *extracted, exists bool, old Instance, b *rowBatch) error {
	c := &s.ids
	c.init()
	pid, ok := c.patients[x.patient.Key]
	if !ok {
		if err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "key"}}, DoNothing: true}).Create(&x.patient).Error; err != nil {
			return err
		}
		if x.patient.ID == 0 {
			if err := tx.Where("key = ?", x.patient.Key).First(&x.patient).Error; err != nil {
				return err
			}
		}
		pid = x.patient.ID
		c.patients[x.patient.Key] = pid
	}
	stID, ok := c.studies[x.study.StudyInstanceUID]
	if !ok {
		var st Study
		if tx.Where("study_instance_uid = ?", x.study.StudyInstanceUID).Limit(1).Find(&st).RowsAffected == 0 {
			x.study.PatientRef = pid
			x.study.ReceivedAt = x.inst.ReceivedAt
			if err := tx.Create(&x.study).Error; err != nil {
				return err
			}
			st = x.study
		}
		stID = st.ID
		c.studies[x.study.StudyInstanceUID] = stID
	}
	se, ok := c.series[x.series.SeriesInstanceUID]
	newSeries := false
	if !ok {
		var row Series
		if tx.Where("series_instance_uid = ?", x.series.SeriesInstanceUID).Limit(1).Find(&row).RowsAffected == 0 {
			x.series.StudyRef = stID
			if err := tx.Create(&x.series).Error; err != nil {
				return err
			}
			row, newSeries = x.series, true
		}
		se = seriesIDs{id: row.ID, study: row.StudyRef}
		c.series[x.series.SeriesInstanceUID] = se
	}
	x.inst.SeriesRef = se.id
	if b != nil && !exists && !newSeries {
		b.add(&x.inst, se.id, se.study)
		return nil
	}
	if err := b.flush(tx); err != nil { // recounts below read the rows
		return err
	}
	if exists {
		x.inst.ID = old.ID
		if err := tx.Save(&x.inst).Error; err != nil {
			return err
		}
		if old.SeriesRef != se.id {
			recountSeries(tx, old.SeriesRef)
		}
		recountSeries(tx, se.id)
		// A recount may delete emptied rows: forget cached IDs.
		c.reset()
		return nil
	}
	if err := tx.Create(&x.inst).Error; err != nil {
		return err
	}
	if err := tx.Exec("UPDATE series SET num_instances = num_instances + 1 WHERE id = ?", se.id).Error; err != nil {
		return err
	}
	if newSeries {
		// num_series and modalities change: derive them from the series rows.
		recountStudy(tx, se.study)
		return nil
	}
	return tx.Exec("UPDATE studies SET num_instances = num_instances + 1 WHERE id = ?", se.study).Error
}

// recountSeries updates the counts of a series and its study.
func recountSeries(tx *gorm.DB, seriesID uint) {
	var se Series
	if tx.First(&se, seriesID).Error != nil {
		return
	}
	var n int64
	tx.Model(&Instance{}).Where("series_ref = ?", seriesID).Count(&n)
	if n == 0 {
		tx.Delete(&se)
	} else {
		tx.Model(&se).Update("num_instances", n)
	}
	recountStudy(tx, se.StudyRef)
}

func recountStudy(tx *gorm.DB, studyID uint) {
	var series []Series
	tx.Where("study_ref = ?", studyID).Order("series_number").Find(&series)
	if len(series) == 0 {
		var st Study
		if tx.First(&st, studyID).Error == nil {
			tx.Delete(&st)
			tx.Where("study_instance_uid = ?", st.StudyInstanceUID).Delete(&Annotation{})
		}
		return
	}
	total := 0
	seen := map[string]bool{}
	var mods []string
	for _, se := range series {
		total += se.NumInstances
		if se.Modality != "" && !seen[se.Modality] {
			seen[se.Modality] = true
			mods = append(mods, se.Modality)
		}
	}
	sort.Strings(mods)
	tx.Model(&Study{}).Where("id = ?", studyID).Updates(map[string]any{
		"num_series": len(series), "num_instances": total, "modalities": strings.Join(mods, `\`)})
}

func (s *Store) recountAll() {
	s.ids.reset()
	var ids []uint
	s.db.Model(&Series{}).Pluck("id", &ids)
	for _, id := range ids {
		recountSeries(s.db, id)
	}
}
