// The job list: server jobs (Jobs() plus `job` events) and local jobs that
// live only in this page (browser uploads). One source of truth for the
// transfers panel and the activity indicator in the top bar.

import { api, on, onReconnect, type Job } from '../api/api';
import { errorText } from '../ui/dom';
import { toast } from '../ui/toast';

/** A job that runs in the page itself; cancel() stops it. */
export interface LocalJob extends Job {
  local: true;
  cancel(): void;
}

type AnyJob = Job | LocalJob;
type Listener = (jobs: AnyJob[], changed: AnyJob | null) => void;

const jobs = new Map<string, AnyJob>();
const hidden = new Set<string>();
const listeners = new Set<Listener>();

function emit(changed: AnyJob | null): void {
  const list = all();
  for (const l of listeners) l(list, changed);
}

export function isLocal(j: AnyJob): j is LocalJob {
  return (j as LocalJob).local === true;
}

export function isActive(j: Job): boolean {
  return j.state === 'running';
}

/** Every visible job, running ones first, then newest first. */
export function all(): AnyJob[] {
  return [...jobs.values()]
    .filter((j) => !hidden.has(j.id))
    .sort((a, b) => {
      if (isActive(a) !== isActive(b)) return isActive(a) ? -1 : 1;
      return (b.startedAt || '').localeCompare(a.startedAt || '');
    });
}

export function get(id: string): AnyJob | undefined {
  return jobs.get(id);
}

export function subscribe(l: Listener): () => void {
  listeners.add(l);
  l(all(), null);
  return () => listeners.delete(l);
}

export function upsert(j: AnyJob): void {
  const old = jobs.get(j.id);
  if (old && isLocal(old) && !isLocal(j)) return;
  jobs.set(j.id, j);
  emit(j);
}

export async function cancel(id: string): Promise<void> {
  const j = jobs.get(id);
  if (!j) return;
  if (isLocal(j)) {
    j.cancel();
    return;
  }
  try {
    await api.cancelJob(id);
  } catch (e) {
    toast(`Cannot cancel "${j.title}": ${errorText(e)}`, 'error');
  }
}

/** Hides finished jobs from the list (the server keeps its own history). */
export function clearFinished(): void {
  for (const j of jobs.values()) if (!isActive(j)) hidden.add(j.id);
  emit(null);
}

let started = false;

/** Loads the current jobs and follows `job` events. Call once. */
export async function initJobs(): Promise<void> {
  if (started) return;
  started = true;
  on('job', (j) => {
    if (j && typeof j.id === 'string') upsert(j);
  });
  onReconnect(() => void refetch());
  await refetch();
}

/** True when snapshot a (from Jobs()) is older than b (from an event that overtook it). */
function staler(a: Job, b: Job): boolean {
  if (isActive(a) && !isActive(b)) return true;
  return a.done + a.failed < b.done + b.failed;
}

/** Replaces the server jobs with the server's list (after start-up or a lost event stream). */
async function refetch(): Promise<void> {
  try {
    for (const j of (await api.jobs()) ?? []) {
      const old = jobs.get(j.id);
      if (!old || (!isLocal(old) && !staler(j, old))) jobs.set(j.id, j);
    }
    emit(null);
  } catch (e) {
    console.warn('Jobs() failed', e);
  }
}

/** Makes sure a job just started by a method call (its id) is listed. */
export async function track(jobID: string): Promise<void> {
  if (jobID && !jobs.has(jobID)) await refetch();
}
