package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// rowWriter writes the rows of the indexer's common case, new instances
// of series that already have their rows, without the ORM: one dedicated
// connection, statements prepared once, and one BEGIN IMMEDIATE ... COMMIT
// per batch. On a Storage SCP with one association every object is a
// batch of its own, and its C-STORE-RSP waits for this transaction, so
// its cost is on the sender's critical path (gorm's per-statement work
// made it about 0.4 ms; see bench/store_scp_test.go).
//
// Only the indexer uses it, under Store.wmu; Close releases the
// connection before the database closes.
type rowWriter struct {
	conn                  *sql.Conn
	insert, series, study *sql.Stmt
	batches               int // committed (tests)
}

// insertInstanceSQL names the columns of Instance as gorm's naming
// strategy does (TestRowWriterMatchesGorm compares the two paths' rows).
const insertInstanceSQL = "INSERT INTO instances (sop_instance_uid, series_ref, sop_class_uid, transfer_syntax_uid, instance_number, " +
	"slice_location, rows, columns, frames, path, size, sha256, content_from, source, received_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"

func newRowWriter(db *sql.DB) (*rowWriter, error) {
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	w := &rowWriter{conn: conn}
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&w.insert, insertInstanceSQL},
		{&w.series, "UPDATE series SET num_instances = num_instances + ? WHERE id = ?"},
		{&w.study, "UPDATE studies SET num_instances = num_instances + ? WHERE id = ?"},
	} {
		if *p.dst, err = conn.PrepareContext(ctx, p.sql); err != nil {
			w.close()
			return nil, fmt.Errorf("store: prepare %q: %w", p.sql, err)
		}
	}
	return w, nil
}

func (w *rowWriter) close() {
	for _, st := range []*sql.Stmt{w.insert, w.series, w.study} {
		if st != nil {
			st.Close()
		}
	}
	w.conn.Close()
}

// errNotFast: the batch needs the general path (a replacement, or a
// patient, study or series without a cached row).
var errNotFast = errors.New("store: batch needs the general index path")

// writeFresh writes the batch if every job is a new instance of a series
// whose row ID is cached; otherwise, or if the transaction fails (it is
// rolled back), it returns an error and writes nothing, and the caller
// takes the general path. Caller holds wmu.
func (s *Store) writeFresh(batch []indexJob) error {
	w := s.rows
	if w == nil {
		return errNotFast
	}
	ids := make([]seriesIDs, len(batch))
	for i, j := range batch {
		se, ok := s.ids.series[j.info.series.SeriesInstanceUID]
		if !j.fresh || !ok {
			return errNotFast
		}
		ids[i] = se
	}
	ctx := context.Background()
	if _, err := w.conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	err := func() error {
		series, studies := map[uint]int{}, map[uint]int{}
		for i, j := range batch {
			in := &j.info.inst
			if _, err := w.insert.ExecContext(ctx, in.SOPInstanceUID, ids[i].id, in.SOPClassUID, in.TransferSyntaxUID, in.InstanceNumber,
				in.SliceLocation, in.Rows, in.Columns, in.Frames, in.Path, in.Size, in.SHA256, in.ContentFrom, in.Source, in.ReceivedAt); err != nil {
				return err
			}
			series[ids[i].id]++
			studies[ids[i].study]++
		}
		for id, n := range series {
			if _, err := w.series.ExecContext(ctx, n, id); err != nil {
				return err
			}
		}
		for id, n := range studies {
			if _, err := w.study.ExecContext(ctx, n, id); err != nil {
				return err
			}
		}
		_, err := w.conn.ExecContext(ctx, "COMMIT")
		return err
	}()
	if err != nil {
		w.conn.ExecContext(ctx, "ROLLBACK")
		return err
	}
	w.batches++
	return nil
}
