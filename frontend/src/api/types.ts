// Types of the App API (see app/*.go). JSON field names are the
// camelCase names the Go facade emits; keep this file in step with app/.

export type Mode = 'desktop' | 'web';

export interface VersionInfo {
  version: string;
  dataDir: string;
  mode: Mode;
  /** Where a PACS reaches Lightbox: AE title, bound port (0: not listening) and this computer's addresses. */
  aeTitle: string;
  dicomPort: number;
  listenerError?: string;
  addresses: string[];
}

/** One character set Lightbox reads (CharacterSets). */
export interface CharsetInfo {
  term: string;
  label: string;
  /** A Defined Term of (0008,0005); false for platform encodings accepted only as a fallback. */
  dicom: boolean;
  /** Lightbox can write it: usable as a node's query Encoding. */
  encodable: boolean;
}

export type StudySort =
  | 'patientName'
  | 'studyDate'
  | 'patientID'
  | 'modalities'
  | 'numberOfInstances'
  | 'studyDescription'
  | 'accessionNumber';

export interface StudyQuery {
  patientName: string;
  patientID: string;
  dateFrom: string; // YYYYMMDD or ""
  dateTo: string; // YYYYMMDD or ""
  modality: string;
  accession: string;
  description: string;
  sort: StudySort;
  desc: boolean;
  limit: number;
  offset: number;
}

export interface Study {
  studyInstanceUID: string;
  patientName: string;
  patientID: string;
  patientBirthDate: string;
  patientSex: string;
  studyDate: string;
  studyTime: string;
  studyDescription: string;
  accessionNumber: string;
  referringPhysician: string;
  modalities: string[] | null;
  numberOfSeries: number;
  numberOfInstances: number;
  receivedAt: string;
}

export interface Series {
  seriesInstanceUID: string;
  studyInstanceUID: string;
  modality: string;
  seriesNumber: number;
  seriesDescription: string;
  bodyPart: string;
  numberOfInstances: number;
  thumbnailURL: string;
}

export interface Instance {
  id: number;
  sopInstanceUID: string;
  sopClassUID: string;
  transferSyntaxUID: string;
  instanceNumber: number;
  rows: number;
  columns: number;
  frames: number;
  fileSize: number;
  source: string;
  receivedAt: string;
}

export type JobKind = 'import' | 'retrieve' | 'send';
export type JobState = 'running' | 'done' | 'failed' | 'cancelled' | 'stopped';

export interface JobError {
  item: string;
  reason: string;
}

export interface Job {
  id: string;
  kind: JobKind;
  title: string;
  state: JobState;
  done: number;
  total: number;
  failed: number;
  bytes: number;
  rate: number; // items/s
  mbps: number;
  etaSeconds: number;
  startedAt: string;
  message: string;
  errors: JobError[] | null;
  /** The study a retrieve job brings (absent for other jobs). */
  studyInstanceUID?: string;
}

export interface Settings {
  aeTitle: string;
  port: number;
  maxAssociations: number;
  allowOnlyKnownAEs: boolean;
  fallbackCharset: string;
  fsync: boolean;
  preferUncompressed: boolean;
  /** Senders must identify themselves as userName (and with the password, once one is set). */
  requireUserIdentity: boolean;
  userName: string;
  /** Write-only: a new password to store ("" keeps the stored one); always "" when read. */
  password: string;
  /** A password is stored. */
  passwordSet: boolean;
}

/** Result of POST /files/upload for one file (UploadResult on the Go side). */
export interface ImportResult {
  item: string;
  outcome: 'stored' | 'duplicate' | 'replaced' | 'skipped' | 'failed';
  error?: string;
  studyInstanceUID?: string;
}

export interface StoreEvent {
  kind: 'added' | 'deleted';
  studyInstanceUID: string;
  seriesInstanceUID: string;
}

/** An `association` event (app.AssociationEvent): accepted, rejected, ended or failed associations of the listener. */
export interface AssociationEvent {
  id: number;
  kind: 'accepted' | 'rejected' | 'ended' | 'failed';
  callingAE: string;
  calledAE: string;
  host: string;
  reason?: string;
  startedAt: string;
  endedAt?: string;
}

/** Event name -> payload type. */
export interface EventMap {
  job: Job;
  store: StoreEvent;
  association: AssociationEvent;
  find: FindEvent;
  incoming: AssociationActivity;
}

/** Per-frame InstanceMeta from GET /files/instance/<id>/meta (used by the viewer). */
export interface InstanceMeta {
  id: number;
  sopInstanceUID: string;
  sopClassUID: string;
  studyInstanceUID: string;
  seriesInstanceUID: string;
  transferSyntaxUID: string;
  rows: number;
  columns: number;
  frames: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  pixelRepresentation: number;
  photometricInterpretation: string;
  planarConfiguration: number;
  dataType: 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'rgb8' | 'rgb16';
  rescaleSlope: number;
  rescaleIntercept: number;
  rescaleType: string;
  modality: string;
  windowCenter: number[] | null;
  windowWidth: number[] | null;
  windowExplanation: string[] | null;
  voiLUTFunction: string;
  pixelSpacing: [number, number] | null;
  imagerPixelSpacing: [number, number] | null;
  spacingSource: 'PixelSpacing' | 'ImagerPixelSpacing' | '';
  imagePositionPatient: [number, number, number] | null;
  imageOrientationPatient: number[] | null;
  sliceThickness: number;
  sliceLocation: number;
  frameOfReferenceUID: string;
  frameTime: number | null;
  recommendedDisplayFrameRate: number | null;
  patientName: string;
  patientID: string;
  patientBirthDate: string;
  patientSex: string;
  patientAge: string;
  studyDate: string;
  studyTime: string;
  studyDescription: string;
  seriesDescription: string;
  seriesNumber: number;
  instanceNumber: number;
  institutionName: string;
  bodyPart: string;
  /** (0020,0020) row and column directions of a projection image, e.g. ["L", "F"]; [] if absent. */
  patientOrientation: string[];
  /** Smallest/Largest Image Pixel Value (stored values), when the file has them. */
  minValue?: number;
  maxValue?: number;
}

export interface TagNode {
  tag: string;
  keyword: string;
  vr: string;
  length: number;
  value: string;
  substituted: boolean;
  items?: TagNode[][];
}

// ---- remote nodes, echo, query/retrieve, send, incoming (app/nodes.go, qr.go, send.go, incoming.go) ----

export type RetrieveMode = 'C-GET' | 'C-MOVE';

/** A remote AE (backend/nodes.Node). */
export interface DicomNode {
  name: string;
  aeTitle: string;
  host: string;
  port: number;
  encoding: string; // (0008,0005) term for query keys, default "ISO_IR 192"
  retrieve: RetrieveMode;
  localPort: number; // 0 = the main listener
  maxAssociations: number;
  assumeCharset: string;
  description: string;
}

export interface NodeList {
  nodes: DicomNode[];
  path: string;
  /** Set when nodes.xml could not be read (names the line); saving is refused until fixed. */
  error?: string;
}

export interface EchoResult {
  ok: boolean;
  millis: number;
  /** The DIMSE status text, when the peer answered. */
  status?: string;
  /** The transport error in words (no answer at all). */
  error?: string;
  hostPort: string;
}

export type QueryLevel = 'study' | 'series' | 'image';

export interface FindRequest {
  node: string;
  level: QueryLevel;
  keys: Record<string, string>;
  limit: number;
}

/** One C-FIND match: attribute keyword -> value (UTF-8). */
export type FindMatch = Record<string, string>;

export interface FindEvent {
  id: string;
  matches: FindMatch[];
  done: boolean;
  count: number;
  status?: string;
  error?: string;
  limited?: boolean;
}

export interface RetrieveRequest {
  node: string;
  studyInstanceUID: string;
  seriesInstanceUID?: string;
  title?: string;
}

export interface SendRequest {
  nodeName?: string;
  aeTitle?: string;
  host?: string;
  port?: number;
  maxAssociations?: number;
  studyUIDs?: string[];
  seriesUIDs?: string[];
  instanceIDs?: number[];
  callingAE?: string;
}

/** One association of the listener (storage.AssociationActivity): Incoming() and `incoming` events. */
export interface AssociationActivity {
  id: number;
  callingAE: string;
  calledAE: string;
  host: string;
  /** rejected: A-ASSOCIATE-RJ sent; failed: the connection ended before the association was accepted. */
  state: 'active' | 'ended' | 'aborted' | 'rejected' | 'failed' | 'receiving';
  startedAt: string;
  endedAt?: string;
  instances: number;
  failed: number;
  bytes: number;
  rate: number;
  mbps: number;
  lastError?: string;
  errors: string[] | null;
}
