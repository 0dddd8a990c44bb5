#!/usr/bin/python3
"""Writes OUT.jls: a 512x512 16-bit CT-like slice (circle of soft tissue
with noise, bone ring, air outside with noise), JPEG-LS lossless by CharLS,
for the benchmark of a realistic, noisy image. With --time N it also prints
CharLS's own decoding speed, in process, best of N."""
import ctypes
import sys
import time

import numpy as np

out = sys.argv[1]
rng = np.random.default_rng(7)
y, x = np.mgrid[0:512, 0:512]
r = np.hypot(x - 256, y - 256)
hu = np.full((512, 512), -1000.0)
hu[r < 230] = 40
hu[(r >= 200) & (r < 230)] = 900
hu += rng.normal(0, 12, hu.shape)
img = np.clip(np.round(hu + 1024), 0, 4095).astype(np.uint16)

lib = ctypes.CDLL("libcharls.so.2")
lib.charls_jpegls_encoder_create.restype = ctypes.c_void_p
lib.charls_jpegls_decoder_create.restype = ctypes.c_void_p


class FrameInfo(ctypes.Structure):
    _fields_ = [("width", ctypes.c_uint32), ("height", ctypes.c_uint32),
                ("bits_per_sample", ctypes.c_int32), ("component_count", ctypes.c_int32)]


enc = ctypes.c_void_p(lib.charls_jpegls_encoder_create())
fi = FrameInfo(512, 512, 16, 1)
assert lib.charls_jpegls_encoder_set_frame_info(enc, ctypes.byref(fi)) == 0
buf = ctypes.create_string_buffer(2 * img.nbytes)
assert lib.charls_jpegls_encoder_set_destination_buffer(enc, buf, ctypes.c_size_t(len(buf))) == 0
raw = img.tobytes()
assert lib.charls_jpegls_encoder_encode_from_buffer(enc, raw, ctypes.c_size_t(len(raw)), 0) == 0
n = ctypes.c_size_t()
lib.charls_jpegls_encoder_get_bytes_written(enc, ctypes.byref(n))
stream = buf.raw[:n.value]
with open(out + ".jls", "wb") as f:
    f.write(stream)
with open(out + ".raw", "wb") as f:
    f.write(img.astype("<u2").tobytes())

if len(sys.argv) > 3 and sys.argv[2] == "--time":
    dst = ctypes.create_string_buffer(img.nbytes)
    best = 1e9
    for _ in range(int(sys.argv[3])):
        t = time.perf_counter()
        d = ctypes.c_void_p(lib.charls_jpegls_decoder_create())
        lib.charls_jpegls_decoder_set_source_buffer(d, stream, ctypes.c_size_t(len(stream)))
        lib.charls_jpegls_decoder_read_header(d)
        assert lib.charls_jpegls_decoder_decode_to_buffer(d, dst, ctypes.c_size_t(img.nbytes), 0) == 0
        lib.charls_jpegls_decoder_destroy(d)
        best = min(best, time.perf_counter() - t)
    assert dst.raw == img.astype("<u2").tobytes()
    print(f"CharLS 2.4 in process: {len(stream)} bytes -> {img.nbytes} bytes, best {best*1e3:.3f} ms, {img.nbytes/best/1e6:.1f} MB/s")
