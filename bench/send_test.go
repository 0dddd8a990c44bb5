package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"lightbox/backend/dcm"
	"lightbox/backend/storage"
)

// BenchmarkSend1000CT: the 1000-image CT series sent to storescp --ignore
// by Lightbox's Storage SCU and by DCMTK storescu, with 1 and 4 parallel
// associations, same files, same run.
//
//	go test -run '^$' -bench Send1000CT -benchtime 1x ./bench/
func BenchmarkSend1000CT(b *testing.B) {
	files, total := dirBytes(b, ctSeries(b, 1000))
	items := make([]storage.Item, len(files))
	for i, f := range files {
		items[i] = storage.Item{ID: f, Path: f, SOPClassUID: "1.2.840.10008.5.1.4.1.1.2",
			SOPInstanceUID: fmt.Sprintf("2.25.2%036d", i), TransferSyntaxUID: dcm.ExplicitVRLittleEndian}
	}
	warmCache(b, files)
	startStorescp(b, benchStorescpPort+2, "--ignore")
	for _, par := range []int{1, 4} {
		b.Run(fmt.Sprintf("lightbox/assoc=%d", par), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				rep := storage.Send(context.Background(), storage.Target{CallingAE: "LIGHTBOX", CalledAE: "STORESCP",
					Addr: fmt.Sprintf("127.0.0.1:%d", benchStorescpPort+2), MaxAssociations: par}, items, storage.Options{})
				d := time.Since(t0)
				if rep.Err != nil || rep.Sent != len(items) || rep.Associations != par {
					b.Fatalf("sent %d of %d over %d associations: %v", rep.Sent, len(items), rep.Associations, rep.Err)
				}
				report(b, len(files), total, d)
			}
		})
		b.Run(fmt.Sprintf("storescu/assoc=%d", par), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				report(b, len(files), total, storescuParallel(b, files, par, "STORESCP", benchStorescpPort+2))
			}
		})
	}
}
