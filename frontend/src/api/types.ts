// Types of the App API (see /work/brief/app-api.md). JSON field names are the
// camelCase names the Go facade emits; keep this file in step with app/.

export type Mode = 'desktop' | 'web';

export interface VersionInfo {
  version: string;
  dataDir: string;
  mode: Mode;
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
}

export interface Settings {
  aeTitle: string;
  port: number;
  maxAssociations: number;
  allowOnlyKnownAEs: boolean;
  fallbackCharset: string;
  fsync: boolean;
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

export interface AssociationEvent {
  id: string;
  callingAE: string;
  calledAE: string;
  host: string;
  state: 'open' | 'closed' | 'rejected';
  instances: number;
  bytes: number;
  errors: number;
  startedAt: string;
}

/** Event name -> payload type. */
export interface EventMap {
  job: Job;
  store: StoreEvent;
  association: AssociationEvent;
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
  minValue: number;
  maxValue: number;
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
