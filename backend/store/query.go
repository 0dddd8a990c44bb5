package store

import (
	"context"
	"errors"
	"math"
	"os"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"lightbox/backend/charset"
)

// StudyQuery filters and sorts the study list. Empty fields match all.
type StudyQuery struct {
	PatientName string `json:"patientName"` // * and ? wildcards, case-insensitive, any PN component group
	PatientID   string `json:"patientID"`   // wildcards too
	DateFrom    string `json:"dateFrom"`    // YYYYMMDD
	DateTo      string `json:"dateTo"`
	Modality    string `json:"modality"`
	Accession   string `json:"accession"`
	Description string `json:"description"` // substring or wildcards
	Sort        string `json:"sort"`
	Desc        bool   `json:"desc"`
	Limit       int    `json:"limit"`
	Offset      int    `json:"offset"`
}

// StudyView is a study row as the UI and the CLI show it.
type StudyView struct {
	StudyInstanceUID   string    `json:"studyInstanceUID"`
	PatientName        string    `json:"patientName"`
	PatientID          string    `json:"patientID"`
	PatientBirthDate   string    `json:"patientBirthDate"`
	PatientSex         string    `json:"patientSex"`
	StudyDate          string    `json:"studyDate"`
	StudyTime          string    `json:"studyTime"`
	StudyDescription   string    `json:"studyDescription"`
	AccessionNumber    string    `json:"accessionNumber"`
	ReferringPhysician string    `json:"referringPhysician"`
	Modalities         []string  `json:"modalities"`
	NumberOfSeries     int       `json:"numberOfSeries"`
	NumberOfInstances  int       `json:"numberOfInstances"`
	ReceivedAt         time.Time `json:"receivedAt"`
}

// SeriesView is a series row.
type SeriesView struct {
	SeriesInstanceUID string `json:"seriesInstanceUID"`
	StudyInstanceUID  string `json:"studyInstanceUID"`
	Modality          string `json:"modality"`
	SeriesNumber      int    `json:"seriesNumber"`
	SeriesDescription string `json:"seriesDescription"`
	BodyPart          string `json:"bodyPart"`
	NumberOfInstances int    `json:"numberOfInstances"`
	ThumbnailURL      string `json:"thumbnailURL"`
}

// InstanceView is an instance row.
type InstanceView struct {
	ID                uint      `json:"id"`
	SOPInstanceUID    string    `json:"sopInstanceUID"`
	SOPClassUID       string    `json:"sopClassUID"`
	TransferSyntaxUID string    `json:"transferSyntaxUID"`
	InstanceNumber    int       `json:"instanceNumber"`
	Rows              int       `json:"rows"`
	Columns           int       `json:"columns"`
	Frames            int       `json:"frames"`
	FileSize          int64     `json:"fileSize"`
	Source            string    `json:"source"`
	ReceivedAt        time.Time `json:"receivedAt"`
}

// Studies lists the studies matching q.
func (s *Store) Studies(ctx context.Context, q StudyQuery) ([]StudyView, error) {
	if err := s.barrier(ctx); err != nil {
		return nil, err
	}
	db := s.db.WithContext(ctx).Model(&Study{}).Preload("Patient")
	if q.DateFrom != "" {
		db = db.Where("study_date >= ?", q.DateFrom)
	}
	if q.DateTo != "" {
		db = db.Where("study_date <= ?", q.DateTo)
	}
	if q.Modality != "" {
		db = db.Where("'\\' || modalities || '\\' LIKE ?", `%\`+strings.ToUpper(q.Modality)+`\%`)
	}
	var rows []Study
	if err := db.Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]StudyView, 0, len(rows))
	for _, st := range rows {
		if !charset.MatchPN(q.PatientName, st.Patient.Name) || !charset.MatchText(q.PatientID, st.Patient.PatientID) ||
			!charset.MatchText(q.Accession, st.AccessionNumber) || !matchContains(q.Description, st.Description) {
			continue
		}
		v := StudyView{StudyInstanceUID: st.StudyInstanceUID, PatientName: st.Patient.Name, PatientID: st.Patient.PatientID,
			PatientBirthDate: st.Patient.BirthDate, PatientSex: st.Patient.Sex, StudyDate: st.StudyDate, StudyTime: st.StudyTime,
			StudyDescription: st.Description, AccessionNumber: st.AccessionNumber, ReferringPhysician: st.ReferringPhysician,
			Modalities: []string{}, NumberOfSeries: st.NumSeries, NumberOfInstances: st.NumInstances, ReceivedAt: st.ReceivedAt}
		if st.Modalities != "" {
			v.Modalities = strings.Split(st.Modalities, `\`)
		}
		out = append(out, v)
	}
	sortStudies(out, q.Sort, q.Desc)
	if q.Offset > 0 {
		if q.Offset >= len(out) {
			return []StudyView{}, nil
		}
		out = out[q.Offset:]
	}
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

func sortStudies(v []StudyView, key string, desc bool) {
	less := func(a, b StudyView) bool {
		switch key {
		case "patientName":
			return strings.ToLower(a.PatientName) < strings.ToLower(b.PatientName)
		case "patientID":
			return a.PatientID < b.PatientID
		case "modalities":
			return strings.Join(a.Modalities, ",") < strings.Join(b.Modalities, ",")
		case "numberOfInstances":
			return a.NumberOfInstances < b.NumberOfInstances
		case "studyDescription":
			return strings.ToLower(a.StudyDescription) < strings.ToLower(b.StudyDescription)
		case "accessionNumber":
			return a.AccessionNumber < b.AccessionNumber
		default: // studyDate, newest first by default
			return a.StudyDate+a.StudyTime > b.StudyDate+b.StudyTime
		}
	}
	sort.SliceStable(v, func(i, j int) bool {
		if desc {
			return less(v[j], v[i])
		}
		return less(v[i], v[j])
	})
}

// Series lists the series of a study, by series number.
func (s *Store) Series(ctx context.Context, studyUID string) ([]SeriesView, error) {
	if err := s.barrier(ctx); err != nil {
		return nil, err
	}
	var st Study
	if err := s.db.WithContext(ctx).Where("study_instance_uid = ?", studyUID).First(&st).Error; err != nil {
		return nil, notFound(err)
	}
	var rows []Series
	if err := s.db.WithContext(ctx).Where("study_ref = ?", st.ID).Order("series_number, id").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]SeriesView, 0, len(rows))
	for _, se := range rows {
		out = append(out, SeriesView{SeriesInstanceUID: se.SeriesInstanceUID, StudyInstanceUID: studyUID, Modality: se.Modality,
			SeriesNumber: se.SeriesNumber, SeriesDescription: se.Description, BodyPart: se.BodyPart, NumberOfInstances: se.NumInstances})
	}
	return out, nil
}

// Instances lists the instances of a series: by instance number, then by
// position along the slice normal.
func (s *Store) Instances(ctx context.Context, seriesUID string) ([]Instance, error) {
	if err := s.barrier(ctx); err != nil {
		return nil, err
	}
	var se Series
	if err := s.db.WithContext(ctx).Where("series_instance_uid = ?", seriesUID).First(&se).Error; err != nil {
		return nil, notFound(err)
	}
	var rows []Instance
	if err := s.db.WithContext(ctx).Where("series_ref = ?", se.ID).Find(&rows).Error; err != nil {
		return nil, err
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.InstanceNumber != b.InstanceNumber {
			return a.InstanceNumber < b.InstanceNumber
		}
		if !math.IsNaN(a.SliceLocation) && !math.IsNaN(b.SliceLocation) && a.SliceLocation != b.SliceLocation {
			return a.SliceLocation < b.SliceLocation
		}
		return a.ID < b.ID
	})
	return rows, nil
}

// View converts an instance row for the UI.
func (in *Instance) View() InstanceView {
	return InstanceView{ID: in.ID, SOPInstanceUID: in.SOPInstanceUID, SOPClassUID: in.SOPClassUID, TransferSyntaxUID: in.TransferSyntaxUID,
		InstanceNumber: in.InstanceNumber, Rows: in.Rows, Columns: in.Columns, Frames: in.Frames, FileSize: in.Size,
		Source: in.Source, ReceivedAt: in.ReceivedAt}
}

// Instance returns an instance by its row ID.
func (s *Store) Instance(ctx context.Context, id uint) (*Instance, error) {
	if err := s.barrier(ctx); err != nil {
		return nil, err
	}
	var in Instance
	if err := s.db.WithContext(ctx).First(&in, id).Error; err != nil {
		return nil, notFound(err)
	}
	return &in, nil
}

// InstanceByUID returns an instance by its SOP Instance UID.
func (s *Store) InstanceByUID(ctx context.Context, uid string) (*Instance, error) {
	if err := s.barrier(ctx); err != nil {
		return nil, err
	}
	var in Instance
	if err := s.db.WithContext(ctx).Where("sop_instance_uid = ?", uid).First(&in).Error; err != nil {
		return nil, notFound(err)
	}
	return &in, nil
}

// StudyInstances lists every instance of a study (series order, then instance order).
func (s *Store) StudyInstances(ctx context.Context, studyUID string) ([]Instance, error) {
	if err := s.barrier(ctx); err != nil {
		return nil, err
	}
	series, err := s.Series(ctx, studyUID)
	if err != nil {
		return nil, err
	}
	var all []Instance
	for _, se := range series {
		in, err := s.Instances(ctx, se.SeriesInstanceUID)
		if err != nil {
			return nil, err
		}
		all = append(all, in...)
	}
	return all, nil
}

// Totals is what Count reports: instances and their bytes.
type Totals struct {
	Instances int
	Bytes     int64
}

// Count totals the instances of a study, or of one of its series when
// seriesUID is set, in one aggregate query (no rows loaded): for progress
// and arrival checks during a retrieve. Like every read it first waits
// for the rows of the objects committed before the call; an unknown study
// or series counts zero.
func (s *Store) Count(ctx context.Context, studyUID, seriesUID string) (Totals, error) {
	if err := s.barrier(ctx); err != nil {
		return Totals{}, err
	}
	var t Totals
	q := s.db.WithContext(ctx).Model(&Instance{}).Select("COUNT(*) AS instances, COALESCE(SUM(instances.size), 0) AS bytes").
		Joins("JOIN series ON series.id = instances.series_ref").Joins("JOIN studies ON studies.id = series.study_ref").
		Where("studies.study_instance_uid = ?", studyUID)
	if seriesUID != "" {
		q = q.Where("series.series_instance_uid = ?", seriesUID)
	}
	err := q.Scan(&t).Error
	return t, err
}

func notFound(err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	return err
}

// DeleteStudy deletes a study with its files.
func (s *Store) DeleteStudy(ctx context.Context, studyUID string) error {
	if err := s.barrier(ctx); err != nil {
		return err
	}
	series, err := s.Series(ctx, studyUID)
	if err != nil {
		return err
	}
	for _, se := range series {
		if err := s.DeleteSeries(ctx, se.SeriesInstanceUID); err != nil {
			return err
		}
	}
	return nil
}

// DeleteSeries deletes a series with its files.
func (s *Store) DeleteSeries(ctx context.Context, seriesUID string) error {
	if err := s.barrier(ctx); err != nil {
		return err
	}
	s.wmu.Lock()
	var se Series
	if err := s.db.WithContext(ctx).Where("series_instance_uid = ?", seriesUID).First(&se).Error; err != nil {
		s.wmu.Unlock()
		return notFound(err)
	}
	var st Study
	s.db.First(&st, se.StudyRef)
	var paths []string
	s.db.Model(&Instance{}).Where("series_ref = ?", se.ID).Pluck("path", &paths)
	err := s.db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("series_ref = ?", se.ID).Delete(&Instance{}).Error; err != nil {
			return err
		}
		recountSeries(tx, se.ID)
		return nil
	})
	s.ids.reset()
	s.rowGen.Add(1)
	s.wmu.Unlock()
	if err != nil {
		return err
	}
	// Rows first, then files: a crash in between leaves files without rows,
	// which the next Open re-indexes rather than losing data silently.
	for _, p := range paths {
		os.Remove(s.abs(p))
	}
	if s.opt.OnChange != nil {
		go s.opt.OnChange(Change{Kind: "deleted", StudyInstanceUID: st.StudyInstanceUID, SeriesInstanceUID: seriesUID})
	}
	return nil
}

func (s *Store) abs(rel string) string {
	return s.dir + string(os.PathSeparator) + "objects" + string(os.PathSeparator) + rel
}

// Setting reads a user setting ("" when unset).
func (s *Store) Setting(key string) string {
	var st Setting
	s.db.Where("key = ?", key).Limit(1).Find(&st)
	return st.Value
}

// SetSetting writes a user setting.
func (s *Store) SetSetting(key, value string) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.db.Save(&Setting{Key: key, Value: value}).Error
}

// Annotations returns the viewer's saved measurements for a study ("" if none).
func (s *Store) Annotations(studyUID string) string {
	var a Annotation
	s.db.Where("study_instance_uid = ?", studyUID).Limit(1).Find(&a)
	return a.JSON
}

// SaveAnnotations stores the viewer's measurements for a study.
func (s *Store) SaveAnnotations(studyUID, json string) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.db.Save(&Annotation{StudyInstanceUID: studyUID, JSON: json, UpdatedAt: time.Now().UTC()}).Error
}

func matchContains(pattern, s string) bool {
	if pattern == "" {
		return true
	}
	if strings.ContainsAny(pattern, "*?") {
		return charset.MatchText(pattern, s)
	}
	return charset.MatchText("*"+pattern+"*", s)
}
