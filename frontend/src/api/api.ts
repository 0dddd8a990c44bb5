// Typed wrappers for every method of the App API contract. No logic here:
// each wrapper names the Go method and its argument order, nothing more.

import { call, mode, on, onConnection, onNativeFileDrop, onReconnect, uploadFile } from './transport';
import type {
  CharsetInfo,
  ImportResult,
  Instance,
  Job,
  Series,
  Settings,
  Study,
  StudyQuery,
  VersionInfo,
} from './types';

export * from './types';
export { ApiError } from './transport';
export { mode, on, onConnection, onNativeFileDrop, onReconnect };

export const api = {
  version: () => call<VersionInfo>('Version'),
  characterSets: () => call<CharsetInfo[]>('CharacterSets'),
  startupView: () => call<string>('StartupView'),
  clientLog: (level: 'error' | 'warn' | 'info' | 'debug', message: string) => call<void>('ClientLog', level, message),
  listStudies: (q: StudyQuery) => call<Study[] | null>('ListStudies', q),
  listSeries: (studyUID: string) => call<Series[] | null>('ListSeries', studyUID),
  listInstances: (seriesUID: string) => call<Instance[] | null>('ListInstances', seriesUID),
  deleteStudy: (studyUID: string) => call<null>('DeleteStudy', studyUID),
  deleteSeries: (seriesUID: string) => call<null>('DeleteSeries', seriesUID),
  importPaths: (paths: string[]) => call<string>('ImportPaths', paths),
  chooseAndImport: () => call<string>('ChooseAndImport'),
  jobs: () => call<Job[] | null>('Jobs'),
  cancelJob: (jobID: string) => call<null>('CancelJob', jobID),
  getSettings: () => call<Settings>('GetSettings'),
  saveSettings: (s: Settings) => call<Settings>('SaveSettings', s),
  saveAnnotations: (studyUID: string, json: string) => call<null>('SaveAnnotations', studyUID, json),
  loadAnnotations: (studyUID: string) => call<string>('LoadAnnotations', studyUID),
  upload: (name: string, body: Blob, signal?: AbortSignal) => uploadFile<ImportResult>(name, body, signal),
};

/** URLs of the bulk-bytes endpoints (same relative URLs in both modes). */
export const files = {
  thumbnail: (seriesUID: string) => `files/thumbnail/${encodeURIComponent(seriesUID)}.png`,
  render: (instanceID: number, frame = 0, wc?: number, ww?: number) =>
    `files/instance/${instanceID}/render.png?frame=${frame}` +
    (wc !== undefined && ww !== undefined ? `&wc=${wc}&ww=${ww}` : ''),
  frame: (instanceID: number, frame: number) => `files/instance/${instanceID}/frame/${frame}`,
  meta: (instanceID: number) => `files/instance/${instanceID}/meta`,
  tags: (instanceID: number) => `files/instance/${instanceID}/tags`,
  file: (instanceID: number) => `files/instance/${instanceID}/file`,
};
