// A minimal DICOM Part 10 writer for the viewer e2e tests: CT slices with a
// chosen geometry (Explicit VR Little Endian, int16, HU = stored - 1024), so
// that tests can create series the corpus does not have (other orientations)
// and import them while the viewer is open (POST /files/upload).

const TS_EXPLICIT_LE = '1.2.840.10008.1.2.1';
const CT_IMAGE = '1.2.840.10008.5.1.4.1.1.2';

function pad(bytes, padByte) {
  return bytes.length % 2 ? Buffer.concat([bytes, Buffer.from([padByte])]) : bytes;
}

function element(group, elem, vr, value) {
  let data;
  if (Buffer.isBuffer(value)) data = value;
  else if (vr === 'US') data = Buffer.from(new Uint16Array([value]).buffer);
  else if (vr === 'UL') data = Buffer.from(new Uint32Array([value]).buffer);
  else data = Buffer.from(String(value), 'latin1');
  data = pad(data, vr === 'UI' || vr === 'OB' || vr === 'OW' ? 0 : 0x20);
  const long = ['OB', 'OW', 'OF', 'SQ', 'UT', 'UN'].includes(vr);
  const head = Buffer.alloc(long ? 12 : 8);
  head.writeUInt16LE(group, 0);
  head.writeUInt16LE(elem, 2);
  head.write(vr, 4, 'latin1');
  if (long) head.writeUInt32LE(data.length, 8);
  else head.writeUInt16LE(data.length, 6);
  return Buffer.concat([head, data]);
}

const ds = (xs) => xs.map((x) => Number(x.toFixed(4))).join('\\');

/**
 * One CT slice. opts: {studyUID, seriesUID, sopUID, frameUID, patientName, patientID,
 * seriesNumber, seriesDescription, instance, rows, cols, spacing, ipp [3], iop [6],
 * hu(row, col) -> HU value, window [center, width]}.
 */
export function ctSlice(o) {
  const px = new Int16Array(o.rows * o.cols);
  for (let r = 0; r < o.rows; r++) for (let c = 0; c < o.cols; c++) px[r * o.cols + c] = Math.round(o.hu(r, c)) + 1024;
  const body = [
    element(0x0008, 0x0016, 'UI', CT_IMAGE),
    element(0x0008, 0x0018, 'UI', o.sopUID),
    element(0x0008, 0x0020, 'DA', '20240115'),
    element(0x0008, 0x0060, 'CS', 'CT'),
    element(0x0008, 0x1030, 'LO', o.studyDescription ?? 'e2e geometry'),
    element(0x0008, 0x103e, 'LO', o.seriesDescription),
    element(0x0010, 0x0010, 'PN', o.patientName),
    element(0x0010, 0x0020, 'LO', o.patientID),
    element(0x0018, 0x0050, 'DS', ds([o.spacing])),
    element(0x0020, 0x000d, 'UI', o.studyUID),
    element(0x0020, 0x000e, 'UI', o.seriesUID),
    element(0x0020, 0x0011, 'IS', String(o.seriesNumber)),
    element(0x0020, 0x0013, 'IS', String(o.instance)),
    element(0x0020, 0x0032, 'DS', ds(o.ipp)),
    element(0x0020, 0x0037, 'DS', ds(o.iop)),
    element(0x0020, 0x0052, 'UI', o.frameUID),
    element(0x0028, 0x0002, 'US', 1),
    element(0x0028, 0x0004, 'CS', 'MONOCHROME2'),
    element(0x0028, 0x0010, 'US', o.rows),
    element(0x0028, 0x0011, 'US', o.cols),
    element(0x0028, 0x0030, 'DS', ds([o.spacing, o.spacing])),
    element(0x0028, 0x0100, 'US', 16),
    element(0x0028, 0x0101, 'US', 16),
    element(0x0028, 0x0102, 'US', 15),
    element(0x0028, 0x0103, 'US', 1),
    element(0x0028, 0x1050, 'DS', ds([o.window[0]])),
    element(0x0028, 0x1051, 'DS', ds([o.window[1]])),
    element(0x0028, 0x1052, 'DS', '-1024'),
    element(0x0028, 0x1053, 'DS', '1'),
    element(0x7fe0, 0x0010, 'OW', Buffer.from(px.buffer)),
  ];
  const metaBody = Buffer.concat([
    element(0x0002, 0x0001, 'OB', Buffer.from([0, 1])),
    element(0x0002, 0x0002, 'UI', CT_IMAGE),
    element(0x0002, 0x0003, 'UI', o.sopUID),
    element(0x0002, 0x0010, 'UI', TS_EXPLICIT_LE),
    element(0x0002, 0x0012, 'UI', '2.25.1234567'),
  ]);
  const preamble = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1')]);
  return Buffer.concat([preamble, element(0x0002, 0x0000, 'UL', metaBody.length), metaBody, ...body]);
}

/** Uploads one file through the web import endpoint; resolves with the ImportResult. */
export async function upload(base, name, bytes) {
  const r = await fetch(`${base}/files/upload`, { method: 'POST', body: bytes, headers: { 'X-Filename': name } });
  const res = await r.json();
  if (!r.ok || (res.outcome !== 'stored' && res.outcome !== 'duplicate' && res.outcome !== 'replaced')) {
    throw new Error(`upload ${name}: ${r.status} ${JSON.stringify(res)}`);
  }
  return res;
}
