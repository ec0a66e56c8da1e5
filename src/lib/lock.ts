/**
 * The tick lock: only one fullprocess tick at a time. Built on proper-lockfile
 * (an atomic mkdir whose mtime the holder refreshes); a lock whose holder was
 * killed goes stale after `staleSeconds` and is taken over by the next tick.
 */
import fs from 'node:fs';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { FILE_NAMES } from './layout.js';
import type { Logger } from './log.js';

/**
 * proper-lockfile stamps a new lock with an mtime up to 1,005 ms in the future
 * (it probes the file system's mtime precision with the next whole second + 5 ms),
 * and calls a lock stale `stale` ms after its mtime. Taking that much off
 * `staleSeconds` keeps the promise that a tick starting `staleSeconds` after
 * the holder was killed proceeds (proper-lockfile's floor of 2 s makes about
 * 3 s the shortest wait it can honour).
 */
const FUTURE_MTIME_MS = 1010;

/** Takes the lock on `folder` or returns null at once when another tick holds it. */
export async function tryLock(folder: string, staleSeconds: number, log: Logger): Promise<(() => Promise<void>) | null> {
  fs.mkdirSync(folder, { recursive: true });
  const stale = Math.max(2000, staleSeconds * 1000 - FUTURE_MTIME_MS);
  try {
    return await lockfile.lock(folder, {
      lockfilePath: path.join(folder, FILE_NAMES.lock),
      realpath: false,
      retries: 0,
      stale,
      update: Math.max(1000, Math.floor(stale / 3)),
      onCompromised: (error) => log.error(`the tick lock was lost: ${error.message}`),
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOCKED') return null;
    throw error;
  }
}
