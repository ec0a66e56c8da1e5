/**
 * Shared test helpers: temporary project folders with a config, fixture
 * copies, and the path of the repository root. Every test that writes works
 * in its own temporary folder.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateConfig, type Config } from '../src/lib/config.js';
import { FILE_NAMES } from '../src/lib/layout.js';

/** The repository root (tests run from dist/test). */
export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Fixture folder in the source tree. */
export const FIXTURES = path.join(REPO, 'test', 'fixtures');
/** The original project's data, beside the repository (never copied into it); may be absent. */
export const REFERENCE_DATA = path.join(REPO, '..', 'shared', 'reference-data');

const created: string[] = [];
process.on('exit', () => {
  for (const folder of created) fs.rmSync(folder, { recursive: true, force: true });
});

/** A fresh temporary folder, removed when the process exits. */
export function tempFolder(prefix = 'risk-test-'): string {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  created.push(folder);
  return folder;
}

/** Options for a temporary project. */
export interface ProjectOptions {
  /** Folder whose *.csv files become the input folder (default: generated practice fixtures). */
  input?: string;
  /** Folder holding testdata.csv (default: generated test fixture). */
  testData?: string;
  /** Extra config keys (sections merged over the defaults). */
  extra?: Record<string, unknown>;
}

/** A temporary project: folders, a config.json in its root, and the validated config. */
export interface TempProject {
  root: string;
  configFile: string;
  config: Config;
  input: string;
}

/** Creates a temporary project with copies of the input and test data and a config pointing at them. */
export function makeProject(options: ProjectOptions = {}): TempProject {
  const root = tempFolder();
  const input = path.join(root, 'input');
  const testdata = path.join(root, 'testdata');
  fs.mkdirSync(input);
  fs.mkdirSync(testdata);
  const inputSource = options.input ?? path.join(FIXTURES, 'generated', 'practicedata');
  for (const name of fs.readdirSync(inputSource))
    if (name.endsWith('.csv')) fs.copyFileSync(path.join(inputSource, name), path.join(input, name));
  const testSource = options.testData ?? path.join(FIXTURES, 'generated', 'testdata');
  fs.copyFileSync(path.join(testSource, 'testdata.csv'), path.join(testdata, 'testdata.csv'));
  const raw = {
    input_folder_path: 'input',
    output_folder_path: 'ingesteddata',
    test_data_path: 'testdata',
    output_model_path: 'models',
    prod_deployment_path: 'production_deployment',
    ...options.extra,
  };
  const configFile = path.join(root, 'config.json');
  fs.writeFileSync(configFile, JSON.stringify(raw, null, 2));
  return { root, configFile, config: validateConfig(raw, configFile), input };
}

/** Reads every file under a folder into a map of relative path to content (for "unchanged" checks). */
export function snapshot(folder: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!fs.existsSync(folder)) return out;
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isSymbolicLink()) out[path.relative(folder, full)] = `-> ${fs.readlinkSync(full)}`;
      else out[path.relative(folder, full)] = fs.readFileSync(full, 'utf8');
    }
  };
  walk(folder);
  return out;
}

/**
 * Drops the tick lock's leases from a snapshot (every tick, deployment and
 * rollback takes a new lease of the lock: that is the lock working, not output).
 */
export function withoutLeases(files: Record<string, string>): Record<string, string> {
  for (const name of Object.keys(files)) if (name.split(path.sep).includes(FILE_NAMES.lock)) delete files[name];
  return files;
}

/** Loads an expected-values JSON written by test/reference/make_expected.py. */
export function expected(name: 'reference' | 'generated' | 'shipped'): any {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, 'expected', `${name}.json`), 'utf8'));
}

/** Asserts two numbers agree within an absolute tolerance, with a readable message. */
export function assertClose(actual: number, wanted: number, tolerance: number, what: string): void {
  if (!(Math.abs(actual - wanted) <= tolerance)) {
    throw new Error(`${what}: ${actual} differs from ${wanted} by ${Math.abs(actual - wanted)} (tolerance ${tolerance})`);
  }
}

/** Stand-ins for the slow, networked parts of a server (stage timings, npm outdated) in tests. */
export const OFFLINE_DEPS = {
  timings: async () => ({ status: 'ok', ingestion_seconds: 0, training_seconds: 0, rows: 0 }) as const,
  dependencies: async () => ({
    status: 'unavailable' as const,
    reason: 'not checked in tests',
    checked_at: new Date().toISOString(),
    duration_ms: 0,
    packages: [],
  }),
};

/** A temporary project with a model trained, scored and deployed as version 1. */
export async function deployedProject(options: ProjectOptions = {}): Promise<TempProject> {
  const { runIngestion } = await import('../src/ingestion.js');
  const { runTraining } = await import('../src/training.js');
  const { runScoring } = await import('../src/scoring.js');
  const { runDeployment } = await import('../src/deployment.js');
  const project = makeProject(options);
  await runIngestion(project.config);
  await runTraining(project.config);
  await runScoring(project.config);
  await runDeployment(project.config);
  return project;
}

/** Where a user can run the built stages from: the checkout itself, a copy of what they need, or why neither works. */
export type Runtime = { root: string } | { skip: string };

const runtimes = new Map<number, Runtime>();

/** True when `uid` can read `file` (asked of a process running as that user). */
function readableBy(uid: number, file: string): boolean {
  const probe = `require('node:fs').accessSync(${JSON.stringify(file)}, require('node:fs').constants.R_OK)`;
  return spawnSync(process.execPath, ['-e', probe], { uid, gid: uid, stdio: 'ignore' }).status === 0;
}

/** Copies `from` to `to`, hard-linking files where the file system allows (fast, no space) and copying otherwise. */
function linkOrCopy(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true, mode: 0o755 });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) linkOrCopy(source, target);
    else if (entry.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(source), target);
    else {
      try {
        fs.linkSync(source, target);
      } catch {
        fs.copyFileSync(source, target);
      }
    }
  }
}

/**
 * A place from which `uid` (an unprivileged user) can run the built stages:
 * the checkout when that user can read it, else a copy of what the stages need
 * (package.json, dist/src and the production packages) in a temp folder anyone
 * may enter, since a checkout under a private folder (mode 700, a private
 * home) is out of that user's reach. When neither works, why, naming the folder.
 */
export function runtimeFor(uid: number): Runtime {
  const known = runtimes.get(uid);
  if (known) return known;
  let runtime: Runtime;
  const entry = path.join(REPO, 'dist', 'src', 'ingestion.js');
  if (readableBy(uid, entry)) runtime = { root: REPO };
  else {
    const blocking = ancestorsOf(REPO).find((folder) => !readableBy(uid, folder)) ?? REPO;
    try {
      const root = tempFolder('risk-runtime-');
      fs.chmodSync(root, 0o755);
      fs.copyFileSync(path.join(REPO, 'package.json'), path.join(root, 'package.json'));
      linkOrCopy(path.join(REPO, 'dist', 'src'), path.join(root, 'dist', 'src'));
      const lock = JSON.parse(fs.readFileSync(path.join(REPO, 'package-lock.json'), 'utf8')) as {
        packages: Record<string, { dev?: boolean }>;
      };
      for (const [name, info] of Object.entries(lock.packages)) {
        if (name.startsWith('node_modules/') && !info.dev && fs.existsSync(path.join(REPO, name))) {
          linkOrCopy(path.join(REPO, name), path.join(root, name));
        }
      }
      runtime = readableBy(uid, path.join(root, 'dist', 'src', 'ingestion.js'))
        ? { root }
        : { skip: `uid ${uid} can read neither ${blocking} nor a copy of the built stages in ${root}` };
    } catch (error) {
      runtime = { skip: `uid ${uid} cannot read ${blocking}, and copying the built stages failed: ${(error as Error).message}` };
    }
  }
  runtimes.set(uid, runtime);
  return runtime;
}

/** `/a/b/c` → [`/a`, `/a/b`, `/a/b/c`]. */
function ancestorsOf(folder: string): string[] {
  const parts = folder.split(path.sep).filter(Boolean);
  return parts.map((_, i) => path.sep + parts.slice(0, i + 1).join(path.sep));
}

/**
 * The pid of a process that has exited and been reaped: no process has it
 * (the kernel hands pids out in order and wraps only after pid_max more),
 * unlike a number such as 999999 that a busy machine may well be using.
 */
export function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', ''], { stdio: 'ignore' });
  if (child.pid === undefined || child.status !== 0) throw new Error('could not run a child process for a dead pid');
  return child.pid;
}
