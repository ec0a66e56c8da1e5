/**
 * The tick lock: only one fullprocess tick at a time. Built on proper-lockfile
 * (an atomic mkdir whose mtime the holder refreshes); a lock whose holder was
 * killed goes stale after `staleSeconds` and is taken over by the next tick.
 */
import fs from 'node:fs';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import type { Logger } from './log.js';

export const LOCK_NAME = 'fullprocess.lock';

/** Takes the lock on `folder` or returns null at once when another tick holds it. */
export async function tryLock(folder: string, staleSeconds: number, log: Logger): Promise<(() => Promise<void>) | null> {
  fs.mkdirSync(folder, { recursive: true });
  const stale = Math.max(2000, staleSeconds * 1000);
  try {
    return await lockfile.lock(folder, {
      lockfilePath: path.join(folder, LOCK_NAME),
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
