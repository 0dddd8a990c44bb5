// Package bench holds Lightbox's benchmarks against the reference tools
// (DCMTK, GDCM, OpenJPEG, Orthanc), each measured in the same run so that
// the ratios mean something. They are benchmarks, never timed tests:
//
//	go test -run '^$' -bench . -benchtime 1x ./bench/
//
// Data sets are generated once into $HOME/.cache/lightbox/bench.
package bench
