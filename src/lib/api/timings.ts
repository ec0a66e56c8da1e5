/** Stage timings for GET /diagnostics, measured in a child process so the server never blocks on them. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import type { Config } from '../config.js';
import { messageOf } from '../errors.js';
import type { Logger } from '../log.js';
import { PROJECT_ROOT } from '../project.js';
import type { TimingReport } from '../store/records.js';
import { sharedResult } from './cache.js';

/** Measures ingestion and training wall time somewhere that does not block the server. */
export type TimingProvider = () => Promise<TimingReport>;

/** Runs `diagnostics --timings-only` in a child process; refreshed every five minutes, stale answers served meanwhile. */
export function childProcessTimings(config: Config, log: Logger): TimingProvider {
  const script = path.join(PROJECT_ROOT, 'dist', 'src', 'diagnostics.js');
  const measure = (): Promise<TimingReport> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [script, '--config', config.configFile, '--timings-only'],
        { timeout: 120_000, maxBuffer: 8 << 20, env: { ...process.env, LOG_LEVEL: 'error' } },
        (error, stdout) => {
          let report: TimingReport;
          try {
            const parsed = JSON.parse(stdout) as { timings?: TimingReport; error?: string };
            report = parsed.timings ?? { status: 'unavailable', reason: parsed.error ?? 'no timings in the answer' };
          } catch {
            report = { status: 'unavailable', reason: `timing run failed: ${error ? messageOf(error).split('\n')[0] : 'no output'}` };
          }
          if (report.status !== 'ok') log.warn(`timings unavailable: ${report.reason}`);
          resolve(report);
        },
      );
    });
  return sharedResult(measure, () => 300_000, true);
}
