/**
 * The versioned production store in `prod_deployment_path`:
 *
 *   versions/<n>/            one folder per deployment, never modified once complete
 *   current -> versions/<n>  the one symlink that says which version is live
 *   <published file> -> current/<published file>   (every name of layout.PUBLISHED_FILES)
 *   deployments.jsonl        every switch (deploy or rollback), appended
 *
 * (names from layout.ts's STORE_NAMES; the staging and switch are store/staging.ts's)
 *
 * A version folder is filled under a temporary name and renamed into place, and
 * the switch is the atomic rename of a new `current` link over the old one, so a
 * reader that resolves `current` once sees one whole version, whatever instant
 * a deployment is killed at.
 */
import fs from 'node:fs';
import path from 'node:path';
import { NotFoundError, UnavailableError, UserError } from '../errors.js';
import { deployedFile, FILE_NAMES, PUBLISHED_FILES, STORE_NAMES, type PublishedFile } from '../layout.js';
import { isObject, readRecordFile } from './records.js';
import { StagedSet, switchTo as switchLinkTo } from './staging.js';

const { versions: VERSIONS, current: CURRENT, switchLog: LOG, versionRecord: VERSION_RECORD } = STORE_NAMES;

/** Metadata stored with each version (its version record). */
export interface VersionRecord {
  version: number;
  deployed_at: string;
  /** SHA-256 of the model file. */
  model_sha256: string;
  trained_at: string | null;
  objective: string | null;
  /** F1 on the test data, from the score text file. */
  f1: number | null;
  /** The data the model was trained on. */
  data: { files: { name: string; sha256: string; rows_read: number }[]; rows: number | null };
  /** Free-form origin, e.g. "deployment stage" or "fullprocess run <id>". */
  origin: string;
}

/** One line of deployments.jsonl. */
export interface SwitchRecord {
  time: string;
  action: 'deploy' | 'rollback';
  version: number;
  previous: number | null;
}

/** True when `value` has a version record's shape. */
export function isVersionRecord(value: unknown): value is VersionRecord {
  return isObject(value) && Number.isInteger(value.version) && typeof value.deployed_at === 'string' && isObject(value.data);
}

/** True when `value` has a switch record's shape. */
function isSwitchRecord(value: unknown): value is SwitchRecord {
  return isObject(value) && typeof value.time === 'string' && Number.isInteger(value.version);
}

/** Reads a version folder's record; a missing or damaged record is a UserError naming the file. */
function readVersionRecord(folder: string): VersionRecord {
  const file = path.join(folder, VERSION_RECORD);
  const record = readRecordFile(file, 'a version record', isVersionRecord);
  if (!record) throw new UserError(`the version record ${file} does not exist`);
  return record;
}

/** The live version as one consistent snapshot. */
export interface CurrentDeployment {
  version: number;
  folder: string;
  record: VersionRecord;
}

/** Files to publish: a map from published name to source path. */
export type PublishSources = Partial<Record<PublishedFile, string>>;

/** Number of the version `current` points at, or null when nothing is deployed. */
export function currentVersion(store: string): number | null {
  let target: string;
  try {
    target = fs.readlinkSync(path.join(store, CURRENT));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const version = Number(path.basename(target));
  return Number.isInteger(version) && version > 0 ? version : null;
}

/**
 * A cheap identity of the live deployment (one readlink and two stats): it
 * changes with every switch, and also when the store is deleted and rebuilt
 * under the same version numbers. Null when nothing is deployed.
 */
export function deploymentFingerprint(store: string): string | null {
  const version = currentVersion(store);
  if (version === null) return null;
  const folder = versionFolder(store, version);
  const parts = [String(version)];
  for (const file of [path.join(folder, VERSION_RECORD), deployedFile(folder, FILE_NAMES.model)]) {
    const stat = fs.statSync(file, { bigint: true, throwIfNoEntry: false });
    parts.push(stat ? `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}` : 'missing');
  }
  return parts.join('|');
}

/** When `current` was last switched (a deploy or a rollback), from the switch log, in ms; null when never. */
export function switchedAt(store: string): number | null {
  const last = readSwitchLog(store).at(-1);
  const time = last ? Date.parse(last.time) : NaN;
  return Number.isFinite(time) ? time : null;
}

/** Folder of a version. */
export function versionFolder(store: string, version: number): string {
  return path.join(store, VERSIONS, String(version));
}

/** Reads the live deployment once (resolve `current`, then read from that folder); null when none. */
export function readCurrentDeployment(store: string): CurrentDeployment | null {
  const version = currentVersion(store);
  if (version === null) return null;
  const folder = versionFolder(store, version);
  const record = readVersionRecord(folder);
  return { version, folder, record };
}

/** Like readCurrentDeployment, but a missing deployment is an error (HTTP 503, exit 2). */
export function requireCurrentDeployment(store: string): CurrentDeployment {
  const current = readCurrentDeployment(store);
  if (!current) throw new UnavailableError(`no model is deployed in ${store} (run deployment, or fullprocess to bootstrap one)`);
  return current;
}

/** Every complete version on disk, oldest first. */
export function listVersions(store: string): VersionRecord[] {
  const folder = path.join(store, VERSIONS);
  if (!fs.existsSync(folder)) return [];
  return fs
    .readdirSync(folder)
    .filter((name) => /^[1-9]\d*$/.test(name))
    .map(Number)
    .sort((a, b) => a - b)
    .flatMap((version) => {
      try {
        return [readVersionRecord(path.join(folder, String(version)))];
      } catch {
        return [];
      }
    });
}

/** The switch log, oldest first (unreadable lines skipped). */
export function readSwitchLog(store: string): SwitchRecord[] {
  let text: string;
  try {
    text = fs.readFileSync(path.join(store, LOG), 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').flatMap((line) => {
    if (line.trim() === '') return [];
    try {
      const value: unknown = JSON.parse(line);
      return isSwitchRecord(value) ? [value] : [];
    } catch {
      return [];
    }
  });
}

function copyInto(folder: string, sources: PublishSources): void {
  for (const [name, source] of Object.entries(sources)) {
    if (!source) continue;
    const target = path.join(folder, name);
    fs.copyFileSync(source, target);
    const fd = fs.openSync(target, 'r');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
  }
}

/**
 * Publishes the files as a new version and makes it current. Returns the new
 * version's record. `makeRecord` receives the version number.
 */
export function publishVersion(store: string, sources: PublishSources, makeRecord: (version: number) => VersionRecord): VersionRecord {
  const versions = path.join(store, VERSIONS);
  const staged = new StagedSet(versions);
  try {
    copyInto(staged.folder, sources);
    // Claim the next number by renaming the staged set; a concurrent deploy that took it makes us try the next.
    for (let attempt = 0; ; attempt++) {
      const existing = fs
        .readdirSync(versions)
        .filter((name) => /^[1-9]\d*$/.test(name))
        .map(Number);
      const version = Math.max(0, ...existing) + 1;
      const record = makeRecord(version);
      const recordFile = path.join(staged.folder, VERSION_RECORD);
      fs.writeFileSync(recordFile, JSON.stringify(record, null, 2) + '\n');
      const fd = fs.openSync(recordFile, 'r');
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      if (!staged.tryCommit(String(version))) {
        if (attempt < 100) continue;
        throw new Error(`could not claim a version number in ${versions} after ${attempt + 1} attempts`);
      }
      switchTo(store, version, 'deploy');
      return record;
    }
  } finally {
    staged.abort();
  }
}

/** Atomically points `current` at a version, makes sure the top-level links exist, and logs the switch. */
function switchTo(store: string, version: number, action: SwitchRecord['action']): void {
  const previous = currentVersion(store);
  switchLinkTo(store, path.join(store, CURRENT), path.join(VERSIONS, String(version)), [...PUBLISHED_FILES, VERSION_RECORD]);
  const entry: SwitchRecord = { time: new Date().toISOString(), action, version, previous };
  fs.appendFileSync(path.join(store, LOG), JSON.stringify(entry) + '\n');
}

/**
 * Makes an earlier version current again. Without a number: the version that
 * was current before the current one (from the switch log).
 */
export function rollbackTo(store: string, requested?: number): { version: number; previous: number } {
  const current = currentVersion(store);
  if (current === null) throw new UserError(`nothing is deployed in ${store}; there is nothing to roll back`);
  let target = requested;
  if (target === undefined) {
    const log = readSwitchLog(store);
    const last = log.at(-1);
    target = last && last.version === current && last.previous !== null ? last.previous : undefined;
    if (target === undefined) throw new UserError(`no version was current before version ${current}; name one with --rollback <version>`);
  }
  if (!fs.existsSync(path.join(versionFolder(store, target), VERSION_RECORD))) {
    const known = listVersions(store).map((v) => v.version);
    throw new NotFoundError(`version ${target} does not exist in ${store} (versions: ${known.join(', ') || 'none'})`);
  }
  if (target === current) throw new UserError(`version ${target} is already current`);
  switchTo(store, target, 'rollback');
  return { version: target, previous: current };
}
