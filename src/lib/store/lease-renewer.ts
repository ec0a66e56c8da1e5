/**
 * The lease renewer (a worker thread of the lock's holder, lock.ts): sets the
 * lease file's times to now every `intervalMs`, on the holder's open file
 * descriptor. It runs on its own thread, so the renewal goes on while the
 * holder computes synchronously, and it dies with the holder's process.
 *
 * `state[0]` is 0 (idle), 1 (renewing) or 2 (stopped): the holder stops it with
 * a compare-and-swap from idle to stopped, so no renewal lands after a release.
 */
import fs from 'node:fs';
import { workerData } from 'node:worker_threads';

/** What the holder hands the renewer. */
export interface RenewerData {
  fd: number;
  intervalMs: number;
  state: Int32Array;
}

const { fd, intervalMs, state } = workerData as RenewerData;
const timer = setInterval(() => {
  if (Atomics.compareExchange(state, 0, 0, 1) !== 0) {
    clearInterval(timer);
    return;
  }
  try {
    const now = Date.now() / 1000;
    fs.futimesSync(fd, now, now);
  } catch {
    // The holder sees the lease's age in lost().
  } finally {
    Atomics.compareExchange(state, 0, 1, 0);
    Atomics.notify(state, 0);
  }
}, intervalMs);
