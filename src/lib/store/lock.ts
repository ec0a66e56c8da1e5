/**
 * The tick lock: one fullprocess tick (or rollback) at a time per deployment store.
 *
 * The lock is a symbolic link whose target is its owner's record
 * (`pid=<pid> start=<process start time> host=<hostname> at=<ISO time>`):
 * creating a link is atomic and fails when one exists, and reading it gives the
 * owner in one call, so there is never a lock without an owner.
 *
 * Whether the owner lives is asked of the operating system (the process id
 * exists and started when the record says), not of a heartbeat: a holder that
 * works synchronously for minutes (10,000,000 rows) keeps its lock, and a lock
 * whose holder was killed is taken over by the very next tick. Taking over is
 * serialized by a second link (`<lock>.takeover`, same kind of owner), so two
 * ticks that find the same dead lock cannot both end up holding it.
 *
 * The store is meant for one host: a lock held from another host is never taken
 * over (the tick says who holds it). A lock whose owner cannot be read (a
 * folder left by an older version of this project) is taken over once it is
 * older than `staleSeconds`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FILE_NAMES } from '../layout.js';

/** Who holds a lock. */
export interface LockOwner {
  pid: number;
  /** Start time of the process (clock ticks since boot, from /proc); null where /proc cannot tell. */
  start: number | null;
  host: string;
  at: string;
}

/** A held lock. */
export interface HeldLock {
  owner: LockOwner;
  /** Releases the lock (only if this process still holds it). */
  release(): void;
}

/** Why the lock could not be taken. */
export interface LockRefusal {
  /** The holder, when its record could be read. */
  holder: LockOwner | null;
  /** One sentence for the run record. */
  reason: string;
}

/** Start time of a process in clock ticks since boot (field 22 of /proc/<pid>/stat), or null. */
function processStart(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = Number(fields[19]);
    return Number.isFinite(start) ? start : null;
  } catch {
    return null;
  }
}

function ownRecord(): LockOwner {
  return { pid: process.pid, start: processStart(process.pid), host: os.hostname(), at: new Date().toISOString() };
}

function formatOwner(owner: LockOwner): string {
  return `pid=${owner.pid} start=${owner.start ?? '-'} host=${encodeURIComponent(owner.host)} at=${owner.at}`;
}

/** Parses a link target written by formatOwner; null for anything else. */
export function parseOwner(text: string): LockOwner | null {
  const match = /^pid=(\d+) start=(\d+|-) host=(\S+) at=(\S+)$/.exec(text);
  if (!match) return null;
  return { pid: Number(match[1]), start: match[2] === '-' ? null : Number(match[2]), host: decodeURIComponent(match[3]), at: match[4] };
}

/** True unless the owner is known to be gone: a process of this host that no longer runs (or whose id was reused). */
export function ownerIsAlive(owner: LockOwner): boolean {
  if (owner.host !== os.hostname()) return true;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const start = processStart(owner.pid);
  return owner.start === null || start === null || start === owner.start;
}

type Existing = { kind: 'none' } | { kind: 'owner'; owner: LockOwner } | { kind: 'unreadable'; ageMs: number };

function readExisting(link: string): Existing {
  let target: string;
  try {
    target = fs.readlinkSync(link);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'none' };
    if (code !== 'EINVAL') throw error;
    // Not a link: a lock folder of an older version of this project.
    const stat = fs.lstatSync(link, { throwIfNoEntry: false });
    return stat ? { kind: 'unreadable', ageMs: Date.now() - stat.mtimeMs } : { kind: 'none' };
  }
  const owner = parseOwner(target);
  if (owner) return { kind: 'owner', owner };
  const stat = fs.lstatSync(link, { throwIfNoEntry: false });
  return stat ? { kind: 'unreadable', ageMs: Date.now() - stat.mtimeMs } : { kind: 'none' };
}

/** Creates the link; false when one already exists. */
function create(link: string, owner: LockOwner): boolean {
  try {
    fs.symlinkSync(formatOwner(owner), link);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

function sameOwner(a: LockOwner, b: LockOwner): boolean {
  return a.pid === b.pid && a.start === b.start && a.host === b.host && a.at === b.at;
}

/** Removes the link or folder at `link` (a lock of an older version is a folder). */
function remove(link: string): void {
  fs.rmSync(link, { recursive: true, force: true });
}

function describeHolder(owner: LockOwner): string {
  return `pid ${owner.pid} on ${owner.host === os.hostname() ? 'this host' : `host ${owner.host}`} since ${owner.at}`;
}

/**
 * Takes the lock named `name` in `folder`, or says who holds it. Returns at
 * once either way. `staleSeconds` only applies to a lock whose owner cannot be read.
 */
export function tryLock(folder: string, staleSeconds: number, name: string = FILE_NAMES.lock): HeldLock | LockRefusal {
  fs.mkdirSync(folder, { recursive: true });
  const link = path.join(folder, name);
  const me = ownRecord();
  for (let attempt = 0; attempt < 3; attempt++) {
    if (create(link, me)) return held(link, me);
    const existing = readExisting(link);
    if (existing.kind === 'none') continue;
    if (existing.kind === 'owner' && ownerIsAlive(existing.owner)) {
      return { holder: existing.owner, reason: `held by ${describeHolder(existing.owner)}` };
    }
    if (existing.kind === 'unreadable' && existing.ageMs < staleSeconds * 1000) {
      return { holder: null, reason: `held by an unknown owner (${Math.round(existing.ageMs / 1000)} s old)` };
    }
    // Dead owner (or an old unreadable lock): take it over, one taker at a time.
    const taking = takeOver(link, existing, me, staleSeconds);
    if (taking) return taking;
  }
  return { holder: null, reason: 'another tick is taking the lock over' };
}

function takeOver(link: string, judged: Existing, me: LockOwner, staleSeconds: number): HeldLock | LockRefusal | null {
  const marker = `${link}.takeover`;
  if (!create(marker, me)) {
    const other = readExisting(marker);
    const markerAlive =
      (other.kind === 'owner' && ownerIsAlive(other.owner)) || (other.kind === 'unreadable' && other.ageMs < staleSeconds * 1000);
    if (markerAlive) return { holder: null, reason: 'another tick is taking the lock over' };
    // The taker died in the middle: clear its marker and try again from the start.
    remove(marker);
    return null;
  }
  try {
    const now = readExisting(link);
    // Only what was judged dead is removed: a lock taken meanwhile by a live tick is left alone.
    const unchanged =
      (judged.kind === 'owner' && now.kind === 'owner' && sameOwner(now.owner, judged.owner)) ||
      (judged.kind === 'unreadable' && now.kind === 'unreadable');
    if (now.kind !== 'none' && !unchanged) return null;
    if (now.kind !== 'none') remove(link);
    return create(link, me) ? held(link, me) : null;
  } finally {
    remove(marker);
  }
}

function held(link: string, owner: LockOwner): HeldLock {
  return {
    owner,
    release: () => {
      const existing = readExisting(link);
      if (existing.kind === 'owner' && sameOwner(existing.owner, owner)) fs.rmSync(link, { force: true });
    },
  };
}

/** True when `tryLock` returned a held lock. */
export function isHeld(result: HeldLock | LockRefusal): result is HeldLock {
  return 'release' in result;
}
