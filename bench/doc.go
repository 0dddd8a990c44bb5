// Package bench holds Lightbox's benchmarks against the reference tools
// (DCMTK, GDCM, OpenJPEG, Orthanc), each measured in the same run so that
// the ratios mean something. They are benchmarks, never timed tests:
//
//	go test -run '^$' -bench . -benchtime 1x ./bench/
//
// Data sets are generated once into $HOME/.cache/lightbox/bench.
//
// Every contender writes into a fresh folder of one run folder, removed
// when the run ends, after what earlier contenders wrote has been flushed
// (see tempDir): no contender pays for another's files. Where Lightbox
// syncs each received object before answering and DCMTK does not, the
// sync-floor and durable-bound results give the least time any receiver
// with that guarantee can take on this machine, so that its ratio to DCMTK
// can be read against what is possible.
package bench
