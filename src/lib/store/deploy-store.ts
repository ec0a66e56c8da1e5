/**
 * The versioned production store in `prod_deployment_path`:
 *
 *   versions/<n>/            one folder per deployment, never modified once complete
 *   current -> versions/<n>  the one symlink that says which version is live
 *   <published file> -> current/<published file>   (every name of layout.PUBLISHED_FILES)
 *   deployments.jsonl        every switch (deploy or rollback), appended
 *
 * A version folder is filled under a temporary name and renamed into place, and
 * the switch is the atomic rename of a new `current` link over the old one, so a
 * reader that resolves `current` once sees one whole version, whatever instant
 * a deployment is killed at.
 */
import fs from 'node:fs';
import path from 'node:path';
import { NotFoundError, UnavailableError, UserError } from '../errors.js';
import { appendLine, ensureLinks, ownedSuffix, replaceWithLink, sweepDeadEntries, syncFolder } from './files.js';
import { deployedFile, FILE_NAMES, PUBLISHED_FILES, type PublishedFile } from '../layout.js';

export const VERSION_RECORD = 'deployment.json';
const VERSIONS = 'versions';
const CURRENT = 'current';
const LOG = 'deployments.jsonl';
const STAGING = '.staging-';

/** Metadata stored with each version (`deployment.json`). */
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
  const record = JSON.parse(fs.readFileSync(path.join(folder, VERSION_RECORD), 'utf8')) as VersionRecord;
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
        return [JSON.parse(fs.readFileSync(path.join(folder, String(version), VERSION_RECORD), 'utf8')) as VersionRecord];
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
      return [JSON.parse(line) as SwitchRecord];
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
  fs.mkdirSync(versions, { recursive: true });
  // Staging folders of killed deployments go; a live deployment's stays.
  sweepDeadEntries(versions, STAGING);
  const staging = path.join(versions, `${STAGING}${ownedSuffix()}`);
  fs.mkdirSync(staging);
  try {
    copyInto(staging, sources);
    // Claim the next number by renaming the staging folder; a concurrent deploy that took it makes us try the next.
    for (let attempt = 0; ; attempt++) {
      const existing = fs
        .readdirSync(versions)
        .filter((name) => /^[1-9]\d*$/.test(name))
        .map(Number);
      const version = Math.max(0, ...existing) + 1;
      const record = makeRecord(version);
      fs.writeFileSync(path.join(staging, VERSION_RECORD), JSON.stringify(record, null, 2) + '\n');
      const fd = fs.openSync(path.join(staging, VERSION_RECORD), 'r');
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      syncFolder(staging);
      try {
        fs.renameSync(staging, versionFolder(store, version));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if ((code === 'ENOTEMPTY' || code === 'EEXIST') && attempt < 100) continue;
        throw error;
      }
      syncFolder(versions);
      switchTo(store, version, 'deploy');
      return record;
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/** Atomically points `current` at a version, makes sure the top-level links exist, and logs the switch. */
function switchTo(store: string, version: number, action: SwitchRecord['action']): void {
  const previous = currentVersion(store);
  // The top-level links go first (dangling until the first switch), so a kill
  // right after the switch cannot leave the store without them.
  ensureLinks(store, [...PUBLISHED_FILES, VERSION_RECORD], CURRENT);
  replaceWithLink(path.join(store, CURRENT), path.join(VERSIONS, String(version)));
  syncFolder(store);
  const entry: SwitchRecord = { time: new Date().toISOString(), action, version, previous };
  appendLine(path.join(store, LOG), JSON.stringify(entry) + '\n');
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
