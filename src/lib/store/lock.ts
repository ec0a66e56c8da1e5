/**
 * The tick lock: one fullprocess tick (or deployment, or rollback) at a time per
 * deployment store, across processes, containers and hosts that share the store.
 *
 * It is a lease. The lock folder holds numbered lease files:
 *
 *   fullprocess.lock/
 *     7.lease     {"token":"<random>","pid":..,"host":..,"purpose":..,"acquired_at":..}   newest: the lease
 *     6.lease     an older lease, removed by the holder of 7
 *
 * The newest lease (highest number) is held while its modification time is less
 * than `staleSeconds` old. Its holder renews it (sets its mtime to now) every
 * fifth of the stale time from a worker thread, whose timer runs while the
 * holder's own thread computes synchronously for minutes, and which dies with
 * the holder's process: a killed holder stops renewing, whatever its host or PID
 * namespace. Nothing is asked of process ids or host names (two containers may
 * share both "pid 1" and a hostname); they are only shown to the operator. A
 * holder is its random token; life is shown by renewal alone.
 *
 * Taking the lock creates lease n+1, where n is the newest lease and is stale
 * (or there is none): the file is written whole beside it, then hard-linked to
 * `<n+1>.lease`, which fails if that name exists. Of any number of takers that
 * judged lease n stale, exactly one creates n+1; the others then see a fresh
 * lease and answer "locked". Lease numbers only grow (the newest lease is never
 * removed, release marks it expired by setting its mtime to 0), so a slow taker
 * that judged an older lease stale creates a number that is not the newest, sees
 * it, and backs off. The renewer sets times on its own open file, never on a
 * path, so it can never renew a lease that a taker created since.
 *
 * Clocks: the lease age compares the reader's clock with the renewer's, so hosts
 * sharing a store need synchronized clocks (NTP); a skew well below the stale
 * time is harmless.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { FILE_NAMES, LEASE_NAME, leaseName, temporaryPrefix } from '../layout.js';
import { writeAll } from './files.js';
import type { RenewerData } from './lease-renewer.js';

/** Who holds (or held) a lease. */
export interface LockOwner {
  /** Random, unique to one taking of the lock: the holder's identity. */
  token: string;
  /** Shown to the operator only (another PID namespace may reuse it). */
  pid: number;
  /** Shown to the operator only (containers may share it). */
  host: string;
  /** What took the lock (a fullprocess tick, a rollback, a deployment). */
  purpose: string;
  acquired_at: string;
}

/** A held lock. */
export interface HeldLock {
  owner: LockOwner;
  /** Null while this process holds the lease; otherwise why it lost it (superseded, or not renewed). */
  lost(): string | null;
  /** Stops renewing and marks the lease expired, so the next taker need not wait. */
  release(): void;
}

/** Why the lock could not be taken. */
export interface LockRefusal {
  /** The holder, when its lease could be read. */
  holder: LockOwner | null;
  /** One sentence for the run record. */
  reason: string;
}

/** The newest lease of a lock folder, as the metrics and the operator see it. */
export interface LeaseState {
  /** Its file. */
  file: string;
  owner: LockOwner | null;
  /** Unix time (ms) of its newest renewal (0 once released). */
  renewedAtMs: number;
  /** True while it is held (renewed less than the stale time ago). */
  live: boolean;
}

/** Options of tryLock. */
export interface LockOptions {
  /** What takes the lock, for the operator ("fullprocess tick", "rollback"). */
  purpose?: string;
  /** Name of the lock folder in the store. */
  name?: string;
}

const LEASE = LEASE_NAME;
const TEMPORARY_PREFIX = temporaryPrefix('lease');

/** How often a holder renews: a fifth of the stale time, so four renewals in a row may run late. */
export function renewalIntervalMs(staleSeconds: number): number {
  return Math.max(50, Math.floor((staleSeconds * 1000) / 5));
}

function leaseNumbers(folder: string): number[] {
  return fs
    .readdirSync(folder)
    .flatMap((name) => {
      const match = LEASE.exec(name);
      return match ? [Number(match[1])] : [];
    })
    .sort((a, b) => b - a);
}

function leaseFile(folder: string, n: number): string {
  return path.join(folder, leaseName(n));
}

/** Parses a lease file's text; null when it is not a lease record. */
export function parseOwner(text: string): LockOwner | null {
  try {
    const value = JSON.parse(text) as Partial<LockOwner>;
    if (typeof value.token !== 'string' || typeof value.pid !== 'number' || typeof value.host !== 'string') return null;
    return {
      token: value.token,
      pid: value.pid,
      host: value.host,
      purpose: typeof value.purpose === 'string' ? value.purpose : 'unknown',
      acquired_at: typeof value.acquired_at === 'string' ? value.acquired_at : '',
    };
  } catch {
    return null;
  }
}

function readOwner(file: string): LockOwner | null {
  try {
    return parseOwner(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

function isLive(renewedAtMs: number, staleSeconds: number, now = Date.now()): boolean {
  return renewedAtMs > 0 && now - renewedAtMs < staleSeconds * 1000;
}

/** The newest lease in the lock folder `lockFolder`, or null when there is none. */
export function readLease(lockFolder: string, staleSeconds: number): LeaseState | null {
  let numbers: number[];
  try {
    numbers = leaseNumbers(lockFolder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const newest = numbers[0];
  if (newest === undefined) return null;
  const file = leaseFile(lockFolder, newest);
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  // Removed between the listing and the stat (only older leases are removed): look again.
  if (!stat) return readLease(lockFolder, staleSeconds);
  return { file, owner: readOwner(file), renewedAtMs: stat.mtimeMs, live: isLive(stat.mtimeMs, staleSeconds) };
}

/** The lock folder of a store. */
export function lockFolderOf(store: string, name: string = FILE_NAMES.lock): string {
  return path.join(store, name);
}

function describeHolder(owner: LockOwner | null, renewedAtMs: number): string {
  const renewed = `renewed ${((Date.now() - renewedAtMs) / 1000).toFixed(1)} s ago`;
  if (!owner) return `held by an unreadable lease (${renewed})`;
  return `held by ${owner.purpose} pid ${owner.pid} on host ${owner.host} since ${owner.acquired_at} (${renewed})`;
}

/** Removes older leases and temporaries that takers left (a temporary lives for microseconds). */
function sweep(folder: string, below: number, staleSeconds: number): void {
  for (const name of fs.readdirSync(folder)) {
    const match = LEASE.exec(name);
    const file = path.join(folder, name);
    try {
      if (match && Number(match[1]) < below) fs.rmSync(file, { force: true });
      else if (name.startsWith(TEMPORARY_PREFIX) && !isLive(fs.statSync(file).mtimeMs, staleSeconds)) fs.rmSync(file, { force: true });
    } catch {
      // left for the next holder
    }
  }
}

/**
 * Creates lease `n` holding `owner`, whole, or returns null when that number
 * exists. Returns the open file (its descriptor is what the renewer touches).
 */
function createLease(folder: string, n: number, owner: LockOwner): number | null {
  const temporary = path.join(folder, `${TEMPORARY_PREFIX}${randomBytes(6).toString('hex')}`);
  const fd = fs.openSync(temporary, 'wx');
  try {
    writeAll(fd, Buffer.from(JSON.stringify(owner) + '\n'), temporary);
    fs.fsyncSync(fd);
    try {
      fs.linkSync(temporary, leaseFile(folder, n));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        fs.closeSync(fd);
        return null;
      }
      throw error;
    }
    return fd;
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  } finally {
    fs.rmSync(temporary, { force: true });
  }
}

const IDLE = 0;
const RENEWING = 1;
const STOPPED = 2;

function startRenewer(fd: number, staleSeconds: number): { stop(): void } {
  const state = new Int32Array(new SharedArrayBuffer(4));
  const workerData: RenewerData = { fd, intervalMs: renewalIntervalMs(staleSeconds), state };
  // No options of the holder's command line (an --input-type, a loader) reach the renewer.
  const worker = new Worker(new URL('./lease-renewer.js', import.meta.url), { workerData, execArgv: [] });
  // A held lock does not keep the process alive; when the process ends, so does the renewal.
  worker.unref();
  worker.on('error', (error) => {
    // A renewer that died stops renewing: the lease expires, and lost() says so before a deployment.
    process.emitWarning(`the tick lock's renewer stopped: ${error.message}`);
  });
  return {
    stop: () => {
      for (;;) {
        const was = Atomics.compareExchange(state, 0, IDLE, STOPPED);
        if (was !== RENEWING) break;
        Atomics.wait(state, 0, RENEWING, 100);
      }
      void worker.terminate();
    },
  };
}

function held(folder: string, n: number, fd: number, owner: LockOwner, staleSeconds: number): HeldLock {
  const renewer = startRenewer(fd, staleSeconds);
  let released = false;
  return {
    owner,
    lost: () => {
      if (released) return 'the lock was released';
      const newest = leaseNumbers(folder)[0];
      if (newest !== n) return `lease ${n} was superseded by lease ${newest ?? 'none'} (not renewed in time, or removed by hand)`;
      const renewedAtMs = fs.fstatSync(fd).mtimeMs;
      if (!isLive(renewedAtMs, staleSeconds)) return `lease ${n} was not renewed for ${((Date.now() - renewedAtMs) / 1000).toFixed(1)} s`;
      return null;
    },
    release: () => {
      if (released) return;
      released = true;
      renewer.stop();
      try {
        // Expired from now on (mtime 0): the next taker need not wait. Only this
        // lease's own file is touched, whoever holds the lock now.
        fs.futimesSync(fd, 0, 0);
      } finally {
        fs.closeSync(fd);
      }
    },
  };
}

/**
 * Takes the lock of the store `store`, or says who holds it. Returns at once
 * either way. A lease not renewed for `staleSeconds` is taken over.
 */
export function tryLock(store: string, staleSeconds: number, options: LockOptions = {}): HeldLock | LockRefusal {
  const folder = lockFolderOf(store, options.name);
  fs.mkdirSync(folder, { recursive: true });
  const owner: LockOwner = {
    token: randomUUID(),
    pid: process.pid,
    host: os.hostname(),
    purpose: options.purpose ?? 'fullprocess tick',
    acquired_at: new Date().toISOString(),
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    const newest = readLease(folder, staleSeconds);
    if (newest?.live) return { holder: newest.owner, reason: describeHolder(newest.owner, newest.renewedAtMs) };
    const n = newest ? Number(LEASE.exec(path.basename(newest.file))![1]) + 1 : 1;
    const fd = createLease(folder, n, owner);
    // Another taker created lease n first: look again (it is fresh now, or died already).
    if (fd === null) continue;
    if (leaseNumbers(folder)[0] !== n) {
      // A newer lease exists: this taker judged an old state. Back off.
      fs.futimesSync(fd, 0, 0);
      fs.closeSync(fd);
      continue;
    }
    sweep(folder, n, staleSeconds);
    try {
      return held(folder, n, fd, owner, staleSeconds);
    } catch (error) {
      // No renewer (a thread could not start): give the lease up rather than block ticks until it expires.
      fs.futimesSync(fd, 0, 0);
      fs.closeSync(fd);
      throw error;
    }
  }
  const newest = readLease(folder, staleSeconds);
  return { holder: newest?.owner ?? null, reason: 'other ticks were taking the lock over at the same instant' };
}

/** True when `tryLock` returned a held lock. */
export function isHeld(result: HeldLock | LockRefusal): result is HeldLock {
  return 'release' in result;
}
