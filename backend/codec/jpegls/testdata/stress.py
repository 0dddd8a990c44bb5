#!/usr/bin/python3
"""Builds the JPEG-LS stress set for the decoder tests in OUTDIR.

Synthetic images (grey and RGB, 2..16 bits, odd sizes, runs, edges and
noise) are written as uncompressed DICOM, compressed with DCMTK dcmcjpls
(interleave modes, NEAR 0..3, custom thresholds) and decoded again with
dcmdjpls as the reference. Codestreams dcmcjpls cannot write (restart
intervals, HP colour transforms, LSE MAXVAL) are made with the CharLS
library through ctypes; their reference is the original image when
lossless, else CharLS's own decoding.

manifest.tsv: name rows cols spp bits_alloc precision signed kind jls_path ref_path ref_source
  photometric
  kind=dicom: jls_path is a JPEG-LS DICOM file; otherwise a raw codestream.
  ref_path holds the expected canonical samples (little endian, interleaved).
"""
import concurrent.futures
import ctypes
import os
import subprocess
import sys

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.pixel_data_handlers.util import convert_color_space
from pydicom.uid import ExplicitVRLittleEndian

OUT = sys.argv[1]
rows_out = []


def image(rows, cols, spp, prec, seed):
    """Flat areas (runs), ramps, sharp edges to the extremes and noise."""
    rng = np.random.default_rng(seed)
    maxv = (1 << prec) - 1
    y, x = np.mgrid[0:rows, 0:cols]
    planes = []
    for c in range(spp):
        a = np.zeros((rows, cols), dtype=np.int64)
        a += (x * maxv // max(cols - 1, 1)) * ((y // 4 + c) % 3 == 0)
        a[(y >= rows // 3) & (y < rows // 2)] = maxv // (2 + c)
        a[(x % 7 == 3) & (y > rows // 2)] = maxv
        noise = rng.integers(0, maxv + 1, size=(rows, cols))
        region = (y > 2 * rows // 3) & (x > cols // 2)
        a[region] = noise[region]
        small = rng.integers(-2, 3, size=(rows, cols))
        band = (y < rows // 3) & (x < cols // 2)
        a[band] = np.clip(a[band] + maxv // 3 + small[band], 0, maxv)
        planes.append(np.clip(a, 0, maxv))
    return np.stack(planes, axis=-1)


def write_dicom(path, img, alloc, prec, signed, photometric=None):
    rows, cols, spp = img.shape
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPInstanceUID = "2.25.1234"
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = "2.25.1234"
    ds.Modality = "OT"
    ds.PatientName = "Stress^JPEGLS"
    ds.Rows, ds.Columns, ds.SamplesPerPixel = rows, cols, spp
    ds.PhotometricInterpretation = photometric or ("RGB" if spp == 3 else "MONOCHROME2")
    if spp == 3:
        ds.PlanarConfiguration = 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = alloc, prec, prec - 1
    ds.PixelRepresentation = 1 if signed else 0
    v = img.astype(np.int64)
    if signed:  # the stored bit pattern, read as two's complement
        v = np.where(v >= 1 << (prec - 1), v - (1 << prec), v)
    dt = {8: np.int8 if signed else np.uint8, 16: np.int16 if signed else np.uint16}[alloc]
    ds.PixelData = v.astype(dt).tobytes()
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.save_as(path, write_like_original=False)


def canonical(img, alloc):
    return img.astype({8: "<u1", 16: "<u2"}[alloc]).tobytes()


def add(name, img, alloc, prec, signed, kind, jls, ref, refsrc, photometric=None):
    r, c, s = img.shape
    photometric = photometric or ("RGB" if s == 3 else "MONOCHROME2")
    rows_out.append([name, r, c, s, alloc, prec, int(signed), kind, jls, ref, refsrc, photometric])


skipped = []


def run(*args):
    r = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if r.returncode != 0:
        skipped.append(" ".join(args) + ": " + r.stderr.decode(errors="replace").strip())
    return r.returncode == 0


def reference(name, img, alloc, prec, signed, enc, opts, dec):
    """The reference is dcmdjpls's output; where dcmdjpls fails on a
    lossless file, the original image."""
    ref = os.path.join(OUT, name + ".raw")
    if dec:
        data, src = pydicom.dcmread(dec).PixelData, "dcmdjpls"
    elif "+el" in opts:
        data, src = canonical(img, alloc), "original"
    else:
        return
    with open(ref, "wb") as f:
        f.write(data)
    add(name, img, alloc, prec, signed, "dicom", enc, ref, src)


def dcmtk_set():
    jobs = []  # (name, img, alloc, prec, signed, src, opts, dcmdjpls options)
    n = 0
    grey = [(8, 8, 0), (8, 5, 0), (16, 12, 0), (16, 16, 0), (16, 16, 1), (16, 10, 0), (8, 2, 0)]
    for alloc, prec, signed in grey:
        sizes = [(37, 53), (64, 64)]
        if prec in (8, 16):
            sizes += [(1, 40), (40, 1)]
        for size in sizes:
            n += 1
            img = image(size[0], size[1], 1, prec, n)
            variants = [("el", ["+el"])]
            if size == (37, 53) or size == (64, 64) and prec == 12:
                variants += [("en1", ["+en", "+md", "1"]), ("en2", ["+en", "+md", "2"]), ("en3", ["+en", "+md", "3"])]
                maxv = (1 << prec) - 1
                if maxv >= 64:
                    t = [str(min(maxv, v)) for v in (2, 5, 9)] + ["32"]
                    variants += [("th", ["+el", "+t1", t[0], "+t2", t[1], "+t3", t[2], "+rs", t[3]]),
                                 ("thn", ["+en", "+md", "1", "+t1", "4", "+t2", "20", "+t3", str(min(maxv, 60)), "+rs", "200"])]
            src = os.path.join(OUT, f"g{n}.dcm")
            write_dicom(src, img, alloc, prec, signed)
            for vname, opts in variants:
                name = f"grey{alloc}_{prec}{'s' if signed else 'u'}_{size[0]}x{size[1]}_{vname}"
                jobs.append((name, img, alloc, prec, signed, src, opts, []))
    for alloc, prec in [(8, 8), (16, 16), (16, 12)]:
        n += 1
        img = image(33, 45, 3, prec, n)
        src = os.path.join(OUT, f"c{n}.dcm")
        write_dicom(src, img, alloc, prec, False)
        for ilv in ["+in", "+il", "+is"]:
            for vname, opts in [("el", ["+el"]), ("en2", ["+en", "+md", "2"]), ("th", ["+el", "+t1", "3", "+t2", "6", "+t3", "11", "+rs", "5"])]:
                name = f"rgb{alloc}_{prec}_{ilv[1:]}_{vname}"
                jobs.append((name, img, alloc, prec, False, src, [ilv] + opts, ["+px"]))

    def work(job):
        name, img, alloc, prec, signed, src, opts, dopts = job
        enc = os.path.join(OUT, name + ".dcm")
        dec = os.path.join(OUT, name + ".ref.dcm")
        if run("dcmcjpls", *opts, "+un", src, enc):
            reference(name, img, alloc, prec, signed, enc, opts, run("dcmdjpls", *dopts, enc, dec) and dec)

    # YBR_FULL: the decoder converts to RGB as pydicom does
    n += 1
    rgb = image(31, 43, 3, 8, n).astype(np.uint8)
    ybr = convert_color_space(rgb, "RGB", "YBR_FULL")
    src = os.path.join(OUT, "ybr.dcm")
    write_dicom(src, ybr, 8, 8, False, "YBR_FULL")
    for ilv in ("+il", "+is"):
        name = f"ybr_full_{ilv[1:]}"
        enc, dec = os.path.join(OUT, name + ".dcm"), os.path.join(OUT, name + ".ref.dcm")
        if run("dcmcjpls", ilv, "+el", "+un", src, enc) and run("dcmdjpls", "+px", enc, dec):
            ds = pydicom.dcmread(dec)
            assert ds.PhotometricInterpretation == "YBR_FULL", ds.PhotometricInterpretation
            dec_ybr = np.frombuffer(ds.PixelData, np.uint8)[:ybr.size].reshape(ybr.shape)
            ref = os.path.join(OUT, name + ".raw")
            with open(ref, "wb") as f:
                f.write(convert_color_space(dec_ybr, "YBR_FULL", "RGB").tobytes())
            add(name, ybr, 8, 8, False, "dicom", enc, ref, "dcmdjpls+pydicom", "YBR_FULL")

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(work, jobs))
    rows_out.sort(key=lambda r: r[0])


class FrameInfo(ctypes.Structure):
    _fields_ = [("width", ctypes.c_uint32), ("height", ctypes.c_uint32),
                ("bits_per_sample", ctypes.c_int32), ("component_count", ctypes.c_int32)]


class PCParams(ctypes.Structure):
    _fields_ = [("maxval", ctypes.c_int32), ("t1", ctypes.c_int32), ("t2", ctypes.c_int32),
                ("t3", ctypes.c_int32), ("reset", ctypes.c_int32)]


def charls():
    for name in ("libcharls.so.2", "libCharLS.so.2"):
        try:
            return ctypes.CDLL(name)
        except OSError:
            pass
    return None


def check(rc):
    if rc != 0:
        raise RuntimeError(f"charls error {rc}")


def cl_encode(lib, img, prec, near=0, ilv=0, xform=0, pc=None):
    rows, cols, spp = img.shape
    data = np.ascontiguousarray(img.astype(np.uint8 if prec <= 8 else np.uint16))
    if ilv == 0 and spp > 1:
        data = np.ascontiguousarray(np.moveaxis(data, -1, 0))
    enc = lib.charls_jpegls_encoder_create()
    lib.charls_jpegls_encoder_create.restype = ctypes.c_void_p
    try:
        fi = FrameInfo(cols, rows, prec, spp)
        check(lib.charls_jpegls_encoder_set_frame_info(ctypes.c_void_p(enc), ctypes.byref(fi)))
        check(lib.charls_jpegls_encoder_set_near_lossless(ctypes.c_void_p(enc), near))
        check(lib.charls_jpegls_encoder_set_interleave_mode(ctypes.c_void_p(enc), ilv))
        if xform:
            check(lib.charls_jpegls_encoder_set_color_transformation(ctypes.c_void_p(enc), xform))
        if pc:
            p = PCParams(*pc)
            check(lib.charls_jpegls_encoder_set_preset_coding_parameters(ctypes.c_void_p(enc), ctypes.byref(p)))
        size = 2 * data.nbytes + 4096
        buf = ctypes.create_string_buffer(size)
        check(lib.charls_jpegls_encoder_set_destination_buffer(ctypes.c_void_p(enc), buf, ctypes.c_size_t(size)))
        raw = data.tobytes()
        check(lib.charls_jpegls_encoder_encode_from_buffer(ctypes.c_void_p(enc), raw, ctypes.c_size_t(len(raw)), 0))
        n = ctypes.c_size_t()
        check(lib.charls_jpegls_encoder_get_bytes_written(ctypes.c_void_p(enc), ctypes.byref(n)))
        return buf.raw[:n.value]
    finally:
        lib.charls_jpegls_encoder_destroy(ctypes.c_void_p(enc))


def cl_decode(lib, stream, img_shape, prec, ilv):
    rows, cols, spp = img_shape
    lib.charls_jpegls_decoder_create.restype = ctypes.c_void_p
    dec = lib.charls_jpegls_decoder_create()
    try:
        check(lib.charls_jpegls_decoder_set_source_buffer(ctypes.c_void_p(dec), stream, ctypes.c_size_t(len(stream))))
        check(lib.charls_jpegls_decoder_read_header(ctypes.c_void_p(dec)))
        n = ctypes.c_size_t()
        check(lib.charls_jpegls_decoder_get_destination_size(ctypes.c_void_p(dec), 0, ctypes.byref(n)))
        buf = ctypes.create_string_buffer(n.value)
        check(lib.charls_jpegls_decoder_decode_to_buffer(ctypes.c_void_p(dec), buf, ctypes.c_size_t(n.value), 0))
        a = np.frombuffer(buf.raw, dtype=np.uint8 if prec <= 8 else "<u2")
        if ilv == 0 and spp > 1:
            return np.moveaxis(a.reshape(spp, rows, cols), 0, -1)
        return a.reshape(rows, cols, spp)
    finally:
        lib.charls_jpegls_decoder_destroy(ctypes.c_void_p(dec))


def split(stream):
    """Header (up to and including the SOS segment) and entropy data of a
    single-scan CharLS codestream."""
    i = stream.index(b"\xff\xda")
    ls = int.from_bytes(stream[i + 2:i + 4], "big")
    assert stream[-2:] == b"\xff\xd9"
    return stream[:i + 2 + ls], stream[i + 2 + ls:-2]


def with_restart(lib, img, prec, interval, near=0, ilv=1, pc=None):
    """Codestream with restart intervals: each interval is coded as an
    independent strip (T.87 resets contexts and lines at RSTm)."""
    rows = img.shape[0]
    header, parts = None, []
    for k, y in enumerate(range(0, rows, interval)):
        h, data = split(cl_encode(lib, img[y:y + interval], prec, near, ilv, 0, pc))
        if header is None:
            header = h
        parts.append(data)
    i = header.index(b"\xff\xf7")  # SOF55: patch the height
    header = bytearray(header)
    header[i + 5:i + 7] = rows.to_bytes(2, "big")
    j = header.index(b"\xff\xda")
    dri = b"\xff\xdd\x00\x04" + interval.to_bytes(2, "big")
    out = bytes(header[:j]) + dri + bytes(header[j:])
    for k, p in enumerate(parts):
        if k:
            out += bytes([0xFF, 0xD0 + (k - 1) % 8])
        out += p
    return out + b"\xff\xd9"


def charls_set():
    lib = charls()
    if lib is None:
        return
    n = 100
    cases = []
    for prec in (8, 12, 16):
        cases.append((f"rst_grey{prec}", (45, 31, 1), prec, dict(interval=4, near=0, ilv=0)))
        cases.append((f"rst_grey{prec}_near2", (45, 31, 1), prec, dict(interval=7, near=2, ilv=0)))
    for ilv in (1, 2):
        cases.append((f"rst_rgb8_ilv{ilv}", (40, 27, 3), 8, dict(interval=3, near=0, ilv=ilv)))
        cases.append((f"rst_rgb8_ilv{ilv}_near1", (40, 27, 3), 8, dict(interval=1, near=1, ilv=ilv)))
    for name, shape, prec, kw in cases:
        n += 1
        img = image(*shape, prec, n)
        stream = with_restart(lib, img, prec, kw["interval"], kw["near"], kw["ilv"])
        if kw["near"] == 0:
            emit(name, img, prec, stream, img, "original")
        else:
            emit(name, img, prec, stream, cl_decode(lib, stream, img.shape, prec, kw["ilv"]), "charls")
    for prec in (8, 16):
        for xform in (1, 2, 3):
            for ilv in (1, 2):
                n += 1
                img = image(29, 35, 3, prec, n)
                stream = cl_encode(lib, img, prec, 0, ilv, xform)
                emit(f"hp{xform}_rgb{prec}_ilv{ilv}", img, prec, stream, img, "original")
    for prec, maxval in ((12, 1000), (8, 200), (16, 40000)):
        n += 1
        img = image(30, 41, 1, prec, n) * maxval // ((1 << prec) - 1)
        for near in (0, 2):
            stream = cl_encode(lib, img, prec, near, 0, 0, (maxval, 0, 0, 0, 0))
            if near == 0:
                emit(f"maxval{maxval}_p{prec}_near{near}", img, prec, stream, img, "original")
            else:
                emit(f"maxval{maxval}_p{prec}_near{near}", img, prec, stream,
                     cl_decode(lib, stream, img.shape, prec, 0), "charls")
        stream = cl_encode(lib, img, prec, 1, 0, 0, (maxval, 3, 9, 27, 64))
        emit(f"maxval{maxval}_p{prec}_presets", img, prec, stream, cl_decode(lib, stream, img.shape, prec, 0), "charls")


def emit(name, img, prec, stream, ref, refsrc):
    alloc = 8 if prec <= 8 else 16
    jls = os.path.join(OUT, name + ".jls")
    with open(jls, "wb") as f:
        f.write(stream)
    rp = os.path.join(OUT, name + ".raw")
    with open(rp, "wb") as f:
        f.write(canonical(np.asarray(ref), alloc))
    add(name, img, alloc, prec, False, "jls", jls, rp, refsrc)


dcmtk_set()
charls_set()
with open(os.path.join(OUT, "manifest.tsv"), "w") as f:
    for r in rows_out:
        f.write("\t".join(str(v) for v in r) + "\n")
with open(os.path.join(OUT, "skipped.txt"), "w") as f:
    f.write("\n".join(skipped))
print(len(rows_out), "stress cases,", len(skipped), "encoder runs refused")
