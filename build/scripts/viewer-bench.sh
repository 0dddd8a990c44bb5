#!/usr/bin/env bash
# viewer-bench.sh LIGHTBOX_BIN: the viewer benchmark of issue #9 in headless Chromium.
#   1. generates (once, cached) a 500-slice 512x512 CT series with pydicom/numpy
#      (${LIGHTBOX_BENCH_CACHE:-~/.cache/lightbox/bench}/viewer-ct500, ~260 MB);
#   2. imports it into a temporary data dir and starts `lightbox serve` on it;
#   3. runs frontend/e2e/viewer-bench.test.mjs (first image, cached scroll fps,
#      MPR ready, peak JS heap) and prints its figures;
#   4. stops the server and removes the temporary data.
# Environment: BENCH_PORT / BENCH_DICOM_PORT (default 18700/18701), BENCH_SLICES (500),
# BENCH_RENDERING (auto|gpu|cpu: forces the stack rendering path of the viewer; default auto).
set -euo pipefail
bin=$(readlink -f "${1:?usage: viewer-bench.sh LIGHTBOX_BIN}")
root=$(cd "$(dirname "$0")/../.." && pwd)
n=${BENCH_SLICES:-500}
cache=${LIGHTBOX_BENCH_CACHE:-$HOME/.cache/lightbox/bench}/viewer-ct$n
port=${BENCH_PORT:-18700}
dport=${BENCH_DICOM_PORT:-18701}
py=/usr/bin/python3
[ -x "$py" ] || py=python3

if [ "$(find "$cache" -name '*.dcm' 2>/dev/null | wc -l)" -ne "$n" ]; then
  echo "viewer-bench: generating $n CT slices in $cache"
  rm -rf "$cache.tmp"
  mkdir -p "$cache.tmp"
  "$py" - "$cache.tmp" "$n" <<'EOF'
# A body-like phantom: elliptical trunk (soft tissue ~40 HU with fat rim),
# two lungs (-850 HU) that fade out towards the ends, a spine (bone ~700 HU)
# and a contrast vessel whose position drifts along z, so that sagittal and
# coronal reformats show structure. Int16 stored, RescaleIntercept -1024.
import sys
import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian
out, n = sys.argv[1], int(sys.argv[2])
study = '2.25.91000000000000000000000000000001'
series = '2.25.91000000000000000000000000000002'
frame = '2.25.91000000000000000000000000000003'
yy, xx = np.mgrid[0:512, 0:512].astype(np.float32)
rng = np.random.default_rng(9)
for i in range(n):
    t = i / max(1, n - 1)
    hu = np.full((512, 512), -1000.0, dtype=np.float32)
    body = ((xx - 256) / 220) ** 2 + ((yy - 270) / 170) ** 2 <= 1
    hu[body] = -90  # fat rim
    inner = ((xx - 256) / 205) ** 2 + ((yy - 270) / 155) ** 2 <= 1
    hu[inner] = 40
    lung_r = 70 * np.sin(np.pi * min(1.0, max(0.0, (t - 0.05) / 0.6)))
    for cx in (180, 332):
        hu[((xx - cx) / max(1, lung_r)) ** 2 + ((yy - 250) / max(1, lung_r * 1.3)) ** 2 <= 1] = -850
    hu[(xx - 256) ** 2 + (yy - 380) ** 2 <= 28 ** 2] = 700
    hu[(xx - 256) ** 2 + (yy - 380) ** 2 <= 16 ** 2] = 250
    vx = 256 + 60 * np.sin(2 * np.pi * t)
    hu[(xx - vx) ** 2 + (yy - 300) ** 2 <= 12 ** 2] = 300
    hu += rng.normal(0, 8, hu.shape).astype(np.float32)
    a = np.clip(np.round(hu + 1024), -2000, 4000).astype(np.int16)
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.2'
    ds.file_meta.MediaStorageSOPInstanceUID = '2.25.92%035d' % i
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
    ds.PatientName, ds.PatientID, ds.Modality = 'Bench^Viewer', 'VIEWER-BENCH', 'CT'
    ds.StudyDate, ds.StudyTime, ds.StudyDescription = '20240101', '120000', 'Viewer benchmark'
    ds.SeriesNumber, ds.SeriesDescription, ds.InstanceNumber = 1, '%d slices 512x512' % n, i + 1
    ds.ImagePositionPatient = [-179.2, -179.2, float(-i)]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.SliceLocation = float(-i)
    ds.PixelSpacing = [0.7, 0.7]
    ds.SliceThickness = 1
    ds.Rows = ds.Columns = 512
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = 'MONOCHROME2'
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = -1024, 1, 'HU'
    ds.WindowCenter, ds.WindowWidth = 40, 400
    ds.PixelData = a.tobytes()
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.save_as('%s/ct_%04d.dcm' % (out, i + 1), write_like_original=False)
EOF
  rm -rf "$cache"
  mv "$cache.tmp" "$cache"
fi

work=$(mktemp -d)
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
"$bin" import -q --data "$work/data" "$cache" > "$work/import.log" 2>&1 || { cat "$work/import.log"; exit 1; }
"$bin" serve --data "$work/data" --http "127.0.0.1:$port" --port "$dport" > "$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done
export LIGHTBOX_URL="http://127.0.0.1:$port" LIGHTBOX_BENCH_PATIENT=VIEWER-BENCH LIGHTBOX_BENCH_RENDERING=${BENCH_RENDERING:-auto}
cd "$root/frontend"
if ! node --test --test-reporter=spec e2e/viewer-bench.test.mjs 2>&1 | tee "$work/bench.log"; then
  echo "--- serve log"; tail -30 "$work/serve.log"; exit 1
fi
grep -q '# viewer bench' "$work/bench.log" || { echo "viewer-bench: no figures"; exit 1; }
