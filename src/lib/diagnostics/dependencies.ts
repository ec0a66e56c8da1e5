/**
 * Dependency status: every direct dependency with its installed (current),
 * wanted and latest versions, from `npm outdated --json`. The registry may be
 * slow or unreachable: the check has a time-out and then says `unavailable`
 * with the reason instead of failing.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { messageOf } from '../errors.js';
import { ensureFolder, readJsonFileIfExists, writeJsonAtomic } from '../store/files.js';
import { isObject } from '../store/records.js';
import { artefactPaths } from '../layout.js';
import { PROJECT_ROOT } from '../project.js';

/** One direct dependency. */
export interface DependencyStatus {
  name: string;
  type: 'dependencies' | 'devDependencies';
  current: string | null;
  wanted: string | null;
  latest: string | null;
  outdated: boolean;
}

/** The whole check. */
export interface DependencyReport {
  status: 'ok' | 'unavailable';
  reason?: string;
  checked_at: string;
  duration_ms: number;
  packages: DependencyStatus[];
}

interface OutdatedEntry {
  current?: string;
  wanted?: string;
  latest?: string;
}

function installedVersion(root: string, name: string): string | null {
  try {
    return (JSON.parse(fs.readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return null;
  }
}

/** Runs `npm outdated --json` in `root` with a time-out; never throws. */
export function checkDependencies(root: string, timeoutMs: number): Promise<DependencyReport> {
  const started = Date.now();
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as Record<
    string,
    Record<string, string> | undefined
  >;
  const direct = (['dependencies', 'devDependencies'] as const).flatMap((type) =>
    Object.keys(manifest[type] ?? {}).map((name) => ({ name, type })),
  );
  return new Promise((resolve) => {
    execFile(
      'npm',
      ['outdated', '--json', '--long'],
      { cwd: root, timeout: timeoutMs, maxBuffer: 16 << 20, env: { ...process.env, npm_config_fetch_retries: '0' } },
      (error, stdout, stderr) => {
        const base = { checked_at: new Date().toISOString(), duration_ms: Date.now() - started };
        const installedOnly = (reason: string): DependencyReport => ({
          ...base,
          status: 'unavailable',
          reason,
          packages: direct.map(({ name, type }) => ({
            name,
            type,
            current: installedVersion(root, name),
            wanted: null,
            latest: null,
            outdated: false,
          })),
        });
        if (error && (error as NodeJS.ErrnoException & { killed?: boolean }).killed) {
          resolve(installedOnly(`npm outdated did not answer within ${timeoutMs} ms (registry unreachable or slow)`));
          return;
        }
        let parsed: Record<string, OutdatedEntry> & { error?: { code?: string; summary?: string } };
        try {
          parsed = JSON.parse(stdout || '{}') as typeof parsed;
        } catch {
          resolve(installedOnly(`npm outdated gave no readable answer: ${(stderr || messageOf(error)).trim().split('\n')[0]}`));
          return;
        }
        if (parsed.error) {
          resolve(installedOnly(`npm outdated failed: ${parsed.error.code ?? ''} ${parsed.error.summary ?? ''}`.trim()));
          return;
        }
        // npm outdated exits 1 when something is outdated; that is an answer, not a failure.
        resolve({
          ...base,
          status: 'ok',
          packages: direct.map(({ name, type }) => {
            const entry = parsed[name] as OutdatedEntry | undefined;
            const current = entry?.current ?? installedVersion(root, name);
            return {
              name,
              type,
              current,
              wanted: entry?.wanted ?? current,
              latest: entry?.latest ?? current,
              outdated: entry !== undefined && entry.current !== entry.latest,
            };
          }),
        });
      },
    );
  });
}

/** Dependency status of this project, cached in output_model_path for `diagnostics.outdated_cache_seconds`. */
/** The cached report, when the cache file holds one (a damaged cache only costs a new check). */
function readDependencyCache(file: string): DependencyReport | undefined {
  try {
    const value = readJsonFileIfExists(file, 'the dependency cache');
    return isObject(value) && typeof value.status === 'string' && Array.isArray(value.packages)
      ? (value as unknown as DependencyReport)
      : undefined;
  } catch {
    return undefined;
  }
}

export async function cachedDependencies(config: Config): Promise<DependencyReport> {
  const cacheFile = artefactPaths(config).dependencyCache;
  const cached = readDependencyCache(cacheFile);
  const maxAge = config.diagnostics.outdated_cache_seconds * 1000;
  if (cached?.status === 'ok' && Date.now() - Date.parse(cached.checked_at) < maxAge) return cached;
  const report = await checkDependencies(PROJECT_ROOT, config.diagnostics.outdated_timeout_ms);
  if (report.status === 'ok') {
    ensureFolder(path.dirname(cacheFile));
    writeJsonAtomic(cacheFile, report);
  }
  return report;
}
