#!/usr/bin/python3
"""Usage: charls_time.py N WINDOW FILE...

Times CharLS (libcharls.so.2 through ctypes, in process) decoding the
JPEG-LS codestreams in FILE...: prints "<seconds> <decoded bytes>", the
least thread CPU time of a pass over all of them, of at least N passes and
of as many as WINDOW seconds of wall time allow. BenchmarkVsCharLS
uses it to compare with CharLS in the same run."""
import ctypes
import sys
import time

lib = ctypes.CDLL("libcharls.so.2")
lib.charls_jpegls_decoder_create.restype = ctypes.c_void_p
reps = int(sys.argv[1])
window = float(sys.argv[2])
frames = []
for name in sys.argv[3:]:
    with open(name, "rb") as f:
        frames.append(f.read())
out = ctypes.create_string_buffer(64 << 20)


def decode(stream):
    d = ctypes.c_void_p(lib.charls_jpegls_decoder_create())
    lib.charls_jpegls_decoder_set_source_buffer(d, stream, ctypes.c_size_t(len(stream)))
    assert lib.charls_jpegls_decoder_read_header(d) == 0
    n = ctypes.c_size_t()
    lib.charls_jpegls_decoder_get_destination_size(d, 0, ctypes.byref(n))
    assert lib.charls_jpegls_decoder_decode_to_buffer(d, out, n, 0) == 0
    lib.charls_jpegls_decoder_destroy(d)
    return n.value


total = sum(decode(f) for f in frames)
best = float("inf")
start = time.perf_counter()
i = 0
while i < reps or time.perf_counter() - start < window:
    i += 1
    t = time.thread_time()
    for f in frames:
        decode(f)
    best = min(best, time.thread_time() - t)
print(best, total)
