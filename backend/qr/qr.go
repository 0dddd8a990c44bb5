// Package qr is the Study Root Query/Retrieve SCU: C-FIND at study, series
// and image level, C-GET (sub-operations on the same association, SCP role
// negotiated for the storage classes), and C-MOVE (to an AE title whose
// storage SCP runs elsewhere, usually our own listener).
//
// Contract: every call dials its own association and releases it before
// returning; calls may run concurrently. Query keys are UTF-8 and are
// encoded in the node's character set (package charset); answers are decoded
// with their own (0008,0005). A transport failure is an error; what the peer
// answered is a dimse.Status value in the result, never an error.
package qr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"time"

	"lightbox/backend/charset"
	"lightbox/backend/dcm"
	"lightbox/backend/dimse"
	"lightbox/backend/ul"
)

// Study Root Query/Retrieve information model SOP classes.
const (
	StudyRootFind = "1.2.840.10008.5.1.4.1.2.2.1"
	StudyRootMove = "1.2.840.10008.5.1.4.1.2.2.2"
	StudyRootGet  = "1.2.840.10008.5.1.4.1.2.2.3"
)

// Target is the peer and how to talk to it.
type Target struct {
	CallingAE, CalledAE string
	Addr                string // host:port
	Encoding            string // character set of query keys ("" = ISO_IR 192)
	AssumeCharset       string // for answers without (0008,0005)
	Timeout             time.Duration
	Logger              *slog.Logger
}

func (t Target) dial(ctx context.Context, contexts []ul.ProposedContext) (*ul.Association, error) {
	timeout := t.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	return ul.Dial(ctx, ul.DialConfig{Addr: t.Addr, CallingAE: t.CallingAE, CalledAE: t.CalledAE, Contexts: contexts,
		Timeouts: ul.Timeouts{Connect: timeout, ACSE: timeout}, Logger: t.Logger})
}

// Level of a query.
type Level string

// Query/retrieve levels.
const (
	Study  Level = "STUDY"
	Series Level = "SERIES"
	Image  Level = "IMAGE"
)

// ParseLevel accepts study/series/image in any case.
func ParseLevel(s string) (Level, error) {
	switch strings.ToUpper(s) {
	case "STUDY", "":
		return Study, nil
	case "SERIES":
		return Series, nil
	case "IMAGE", "INSTANCE":
		return Image, nil
	}
	return "", fmt.Errorf("unknown level %q (study, series or image)", s)
}

// ReturnKeys are the attributes requested explicitly at each level.
var ReturnKeys = map[Level][]string{
	Study: {"SpecificCharacterSet", "StudyDate", "StudyTime", "AccessionNumber", "ModalitiesInStudy", "ReferringPhysicianName",
		"StudyDescription", "PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID", "StudyID",
		"NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances"},
	Series: {"SpecificCharacterSet", "Modality", "SeriesDescription", "BodyPartExamined", "StudyInstanceUID", "SeriesInstanceUID",
		"SeriesNumber", "NumberOfSeriesRelatedInstances"},
	Image: {"SpecificCharacterSet", "SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID", "InstanceNumber",
		"Rows", "Columns", "NumberOfFrames"},
}

// Query is a C-FIND request: keys by keyword (UTF-8 values, DICOM matching:
// * and ? wildcards, date ranges "20240101-20241231", UID lists).
type Query struct {
	Level Level
	Keys  map[string]string
}

// Match is one C-FIND answer: values by keyword, decoded to UTF-8.
type Match map[string]string

var errUnknownKey = errors.New("unknown attribute keyword")

// Identifier encodes the query's identifier (with the level's return keys)
// in the given transfer syntax and character set.
func (q Query) Identifier(encoding string, implicit bool) ([]byte, error) {
	type elem struct {
		tag dcm.Tag
		vr  string
		val []byte
	}
	keys := map[string]string{}
	for _, k := range ReturnKeys[q.Level] {
		keys[k] = ""
	}
	for k, v := range q.Keys {
		keys[k] = v
	}
	keys["QueryRetrieveLevel"] = string(q.Level)
	delete(keys, "SpecificCharacterSet")
	var elems []elem
	scs := ""
	for k, v := range keys {
		tag, ok := dcm.TagOf(k)
		if !ok {
			return nil, fmt.Errorf("%w: %q", errUnknownKey, k)
		}
		vr := dcm.DictVR(tag)
		raw := []byte(v)
		switch vr {
		case "PN", "LO", "SH", "ST", "LT", "UT", "UC":
			if v != "" {
				b, set, err := charset.Encode(encoding, v)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", k, err)
				}
				raw = b
				if set != "" && set != "ISO_IR 6" {
					scs = set
				}
			}
		case "SQ", "UN":
			return nil, fmt.Errorf("%s: sequence keys are not supported", k)
		}
		elems = append(elems, elem{tag, vr, raw})
	}
	if scs != "" {
		elems = append(elems, elem{dcm.TagSpecificCharacterSet, "CS", []byte(scs)})
	}
	sort.Slice(elems, func(i, j int) bool { return elems[i].tag < elems[j].tag })
	var out []byte
	for _, e := range elems {
		out = dcm.AppendElement(out, implicit, e.tag, e.vr, e.val)
	}
	return out, nil
}

var queryTS = []string{dcm.ExplicitVRLittleEndian, dcm.ImplicitVRLittleEndian}

// FindResult is the outcome of a C-FIND that got an answer.
type FindResult struct {
	Status  dimse.Status
	Matches int
	Limited bool // the limit was reached and C-CANCEL sent
}

// Find runs a C-FIND and streams each match to onMatch (return an error to
// stop: C-CANCEL is sent). limit > 0 cancels after that many matches.
func Find(ctx context.Context, t Target, q Query, limit int, onMatch func(Match) error) (FindResult, error) {
	var res FindResult
	a, err := t.dial(ctx, []ul.ProposedContext{{AbstractSyntax: StudyRootFind, TransferSyntaxes: queryTS}})
	if err != nil {
		return res, err
	}
	defer a.Close()
	pc, ok := a.FindContext(StudyRootFind)
	if !ok {
		return res, fmt.Errorf("%s does not accept Study Root C-FIND", t.CalledAE)
	}
	ts, _ := dcm.LookupTS(pc.TransferSyntax)
	id, err := q.Identifier(t.Encoding, ts.Implicit)
	if err != nil {
		return res, err
	}
	c := dimse.NewConn(a, dimse.Options{Timeout: 60 * time.Second, Logger: t.Logger})
	cancel := make(chan struct{})
	cancelled := false
	stop := func() {
		if !cancelled {
			cancelled = true
			close(cancel)
		}
	}
	rsp, err := c.Find(ctx, pc.ID, StudyRootFind, bytes.NewReader(id), func(ctx context.Context, m *dimse.Message) error {
		if cancelled {
			if m.Data != nil {
				io.Copy(io.Discard, m.Data)
			}
			return nil
		}
		if m.Data == nil {
			return nil
		}
		b, err := io.ReadAll(io.LimitReader(m.Data, 16<<20))
		if err != nil {
			return err
		}
		ds, err := dcm.ParseDataSet(b, ts)
		if err != nil {
			return fmt.Errorf("C-FIND-RSP identifier: %w", err)
		}
		res.Matches++
		if err := onMatch(decode(ds, t.AssumeCharset)); err != nil {
			stop()
			return nil
		}
		if limit > 0 && res.Matches >= limit {
			res.Limited = true
			stop()
		}
		return nil
	}, cancel)
	if err != nil {
		return res, err
	}
	res.Status = rsp.Status
	a.Release(ctx)
	return res, nil
}

// decode turns an identifier into keyword -> UTF-8 text.
func decode(ds *dcm.DataSet, assume string) Match {
	var opts []charset.Option
	if assume != "" {
		opts = append(opts, charset.WithFallback(assume))
	}
	dec := charset.NewDecoder(ds.Texts(dcm.TagSpecificCharacterSet), opts...)
	m := Match{}
	for _, e := range ds.Elements {
		kw := dcm.Keyword(e.Tag)
		if kw == "" || e.Items != nil || e.Tag == dcm.TagSpecificCharacterSet {
			continue
		}
		switch e.VR {
		case "US", "SS", "UL", "SL":
			if v, ok := ds.Int(e.Tag); ok {
				m[kw] = fmt.Sprint(v)
			}
		default:
			s, _ := dec.Decode(e.VR, e.Value)
			m[kw] = s
		}
	}
	return m
}

// Progress of a retrieve, from the pending responses.
type Progress struct {
	Remaining, Completed, Failed, Warning int
}

// RetrieveResult is the outcome of a C-GET or C-MOVE that got a final response.
type RetrieveResult struct {
	Status dimse.Status
	Progress
	ErrorComment string
}

func progressOf(c *dimse.Command) Progress {
	return Progress{Remaining: int(c.Remaining.Value), Completed: int(c.Completed.Value), Failed: int(c.Failed.Value), Warning: int(c.Warning.Value)}
}

func retrieveIdentifier(level Level, studyUID, seriesUID string, sopUIDs []string, implicit bool) []byte {
	var out []byte
	add := func(t dcm.Tag, vr, v string) { out = dcm.AppendElement(out, implicit, t, vr, []byte(v)) }
	add(dcm.NewTag(0x0008, 0x0052), "CS", string(level))
	if level == Image {
		add(dcm.TagSOPInstanceUID, "UI", strings.Join(sopUIDs, `\`))
	}
	add(dcm.TagStudyInstanceUID, "UI", studyUID)
	if level != Study {
		add(dcm.TagSeriesInstanceUID, "UI", seriesUID)
	}
	return out
}

// RetrieveRequest names what to retrieve.
type RetrieveRequest struct {
	StudyUID  string
	SeriesUID string   // optional: series level
	SOPUIDs   []string // optional: image level (with SeriesUID)
}

func (r RetrieveRequest) level() Level {
	switch {
	case len(r.SOPUIDs) > 0:
		return Image
	case r.SeriesUID != "":
		return Series
	}
	return Study
}

// Move asks the peer to send the matches to destAE. cancel closes -> C-CANCEL.
func Move(ctx context.Context, t Target, r RetrieveRequest, destAE string, onPending func(Progress), cancel <-chan struct{}) (RetrieveResult, error) {
	contexts := []ul.ProposedContext{{AbstractSyntax: StudyRootMove, TransferSyntaxes: queryTS}}
	return retrieve(ctx, t, r, StudyRootMove, contexts, func(c *dimse.Conn, pc ul.Context, id io.Reader, pending func(*dimse.Command)) (*dimse.Command, error) {
		return c.Move(ctx, pc.ID, StudyRootMove, destAE, id, pending, cancel)
	}, onPending)
}

// retrieve dials, sends the retrieve request built by run on the context
// of abstract, and turns the final response into a RetrieveResult.
func retrieve(ctx context.Context, t Target, r RetrieveRequest, abstract string, contexts []ul.ProposedContext,
	run func(c *dimse.Conn, pc ul.Context, id io.Reader, pending func(*dimse.Command)) (*dimse.Command, error),
	onPending func(Progress)) (RetrieveResult, error) {
	var res RetrieveResult
	a, err := t.dial(ctx, contexts)
	if err != nil {
		return res, err
	}
	defer a.Close()
	pc, ok := a.FindContext(abstract)
	if !ok {
		return res, fmt.Errorf("%s does not accept %s", t.CalledAE, map[string]string{StudyRootMove: "Study Root C-MOVE", StudyRootGet: "Study Root C-GET"}[abstract])
	}
	ts, _ := dcm.LookupTS(pc.TransferSyntax)
	c := dimse.NewConn(a, dimse.Options{Logger: t.Logger})
	id := retrieveIdentifier(r.level(), r.StudyUID, r.SeriesUID, r.SOPUIDs, ts.Implicit)
	rsp, err := run(c, pc, bytes.NewReader(id), func(cmd *dimse.Command) {
		if onPending != nil {
			onPending(progressOf(cmd))
		}
	})
	if err != nil {
		return res, err
	}
	res.Status, res.Progress, res.ErrorComment = rsp.Status, progressOf(rsp), rsp.ErrorComment
	a.Release(ctx)
	return res, nil
}

// StorageTS are the transfer syntaxes accepted for C-GET sub-operations:
// uncompressed first, then every compressed syntax we can store and decode.
var StorageTS = []string{dcm.ExplicitVRLittleEndian, dcm.ImplicitVRLittleEndian, dcm.JPEGLSLossless, dcm.JPEG2000Lossless,
	dcm.JPEGLosslessSV1, dcm.JPEGLossless, dcm.RLELossless, dcm.JPEGBaseline, dcm.JPEGExtended, dcm.JPEGLSNearLossless,
	dcm.JPEG2000, dcm.DeflatedExplicitVRLE, dcm.ExplicitVRBigEndian}

// DefaultStorageClasses are proposed for C-GET when the SOP classes of the
// study are not known from an image-level query.
var DefaultStorageClasses = []string{
	"1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.2.1", "1.2.840.10008.5.1.4.1.1.4", "1.2.840.10008.5.1.4.1.1.4.1",
	"1.2.840.10008.5.1.4.1.1.1", "1.2.840.10008.5.1.4.1.1.1.1", "1.2.840.10008.5.1.4.1.1.1.1.1", "1.2.840.10008.5.1.4.1.1.1.2",
	"1.2.840.10008.5.1.4.1.1.1.2.1", "1.2.840.10008.5.1.4.1.1.6.1", "1.2.840.10008.5.1.4.1.1.3.1", "1.2.840.10008.5.1.4.1.1.7",
	"1.2.840.10008.5.1.4.1.1.7.1", "1.2.840.10008.5.1.4.1.1.7.2", "1.2.840.10008.5.1.4.1.1.7.3", "1.2.840.10008.5.1.4.1.1.7.4",
	"1.2.840.10008.5.1.4.1.1.12.1", "1.2.840.10008.5.1.4.1.1.12.2", "1.2.840.10008.5.1.4.1.1.20", "1.2.840.10008.5.1.4.1.1.128",
	"1.2.840.10008.5.1.4.1.1.130", "1.2.840.10008.5.1.4.1.1.481.1", "1.2.840.10008.5.1.4.1.1.481.2", "1.2.840.10008.5.1.4.1.1.481.3",
	"1.2.840.10008.5.1.4.1.1.481.5", "1.2.840.10008.5.1.4.1.1.88.11", "1.2.840.10008.5.1.4.1.1.88.22", "1.2.840.10008.5.1.4.1.1.88.33",
	"1.2.840.10008.5.1.4.1.1.104.1", "1.2.840.10008.5.1.4.1.1.66", "1.2.840.10008.5.1.4.1.1.77.1.4", "1.2.840.10008.5.1.4.1.1.13.1.3",
}

// StorageClasses asks t which storage SOP classes r would retrieve, so
// that Get can propose exactly those: for a whole study, SOP Classes in
// Study (0008,0062) at study level, one answer (Orthanc: 15 ms for a
// 1000-image study); where that is not answered, or for a series or
// images, the SOP Class UID of each instance at image level (Orthanc:
// 0.3-0.45 s for the same study). Nil when neither answers.
func StorageClasses(ctx context.Context, t Target, r RetrieveRequest) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	add := func(uid string) {
		if uid = strings.TrimSpace(uid); uid != "" && !seen[uid] {
			seen[uid] = true
			out = append(out, uid)
		}
	}
	if r.level() == Study {
		_, err := Find(ctx, t, Query{Level: Study, Keys: map[string]string{"StudyInstanceUID": r.StudyUID, "SOPClassesInStudy": ""}}, 1,
			func(m Match) error {
				for _, uid := range strings.Split(m["SOPClassesInStudy"], `\`) {
					add(uid)
				}
				return nil
			})
		if err != nil {
			return nil, err
		}
		if len(out) > 0 {
			return out, nil
		}
	}
	keys := map[string]string{"StudyInstanceUID": r.StudyUID}
	if r.SeriesUID != "" {
		keys["SeriesInstanceUID"] = r.SeriesUID
	}
	if len(r.SOPUIDs) > 0 {
		keys["SOPInstanceUID"] = strings.Join(r.SOPUIDs, `\`)
	}
	_, err := Find(ctx, t, Query{Level: Image, Keys: keys}, 100000, func(m Match) error {
		add(m["SOPClassUID"])
		return nil
	})
	return out, err
}

// Get retrieves on the same association: storage sub-operations are served
// by store (the Storage SCP handler). sopClasses are the storage classes to
// offer the SCP role for (at most 127; nil = DefaultStorageClasses).
func Get(ctx context.Context, t Target, r RetrieveRequest, sopClasses []string, store dimse.Handler, onPending func(Progress), cancel <-chan struct{}) (RetrieveResult, error) {
	if len(sopClasses) == 0 {
		sopClasses = DefaultStorageClasses
	}
	if len(sopClasses) > 127 {
		sopClasses = sopClasses[:127]
	}
	contexts := []ul.ProposedContext{{AbstractSyntax: StudyRootGet, TransferSyntaxes: queryTS}}
	if len(sopClasses)*len(StorageTS) <= 127 {
		// One context per transfer syntax: the peer sends each object in
		// its own syntax, and we store it verbatim.
		for _, uid := range sopClasses {
			for _, ts := range StorageTS {
				contexts = append(contexts, ul.ProposedContext{AbstractSyntax: uid, TransferSyntaxes: []string{ts}, SCP: true})
			}
		}
	} else {
		for _, uid := range sopClasses {
			contexts = append(contexts, ul.ProposedContext{AbstractSyntax: uid, TransferSyntaxes: StorageTS, SCP: true})
		}
	}
	return retrieve(ctx, t, r, StudyRootGet, contexts, func(c *dimse.Conn, pc ul.Context, id io.Reader, pending func(*dimse.Command)) (*dimse.Command, error) {
		return c.Get(ctx, pc.ID, StudyRootGet, id, pending, store, cancel)
	}, onPending)
}
