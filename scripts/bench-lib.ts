/**
 * What the benchmark scripts share: the generated data set, timing a whole
 * process with its peak RSS, starting a server and loading it with wrk.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateConfig } from '../src/lib/config.js';
import { CATEGORICAL_COLUMNS } from '../src/lib/data/generator.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DIST = path.join(ROOT, 'dist');
export const PYTHON = '/usr/bin/python3';
export const REFERENCE = path.join(ROOT, 'scripts', 'reference');
const NODE_PROBE = path.join(DIST, 'scripts', 'rss-probe.js');
const PYTHON_PROBE = path.join(REFERENCE, 'rss_probe.py');

/** Path of a compiled entry script. */
export function stage(name: string): string {
  return path.join(DIST, 'src', `${name}.js`);
}

/** One timed process: wall seconds from spawn to exit, and peak resident set size. */
export interface Measurement {
  seconds: number;
  peak_rss_mb: number;
}

/** Median, smallest and largest of runs. */
export interface Summary extends Measurement {
  runs: Measurement[];
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function summarize(runs: Measurement[]): Summary {
  return { seconds: median(runs.map((m) => m.seconds)), peak_rss_mb: median(runs.map((m) => m.peak_rss_mb)), runs };
}

/** Our job and the reference's, alternating run by run (so a noisy neighbour slows both alike), each run logged on stderr. */
export async function sideBySide(
  label: string,
  ours: () => Promise<Measurement>,
  reference: (() => Promise<Measurement>) | null,
  runs: number,
): Promise<{ ours: Summary; reference: Summary | null }> {
  const mine: Measurement[] = [];
  const theirs: Measurement[] = [];
  for (let i = 0; i < runs; i++) {
    mine.push(await ours());
    const line = [`  ${label} run ${i + 1}: ours ${mine[i].seconds.toFixed(3)} s, ${mine[i].peak_rss_mb.toFixed(0)} MB`];
    if (reference) {
      theirs.push(await reference());
      line.push(`reference ${theirs[i].seconds.toFixed(3)} s, ${theirs[i].peak_rss_mb.toFixed(0)} MB`);
    }
    process.stderr.write(line.join('; ') + '\n');
  }
  return { ours: summarize(mine), reference: reference ? summarize(theirs) : null };
}

/** Which interpreter runs a timed script; each preloads its own peak-RSS probe (getrusage at exit). */
export type Runtime = 'node' | 'python';

/** Runs a script as its own process, as a user would; wall time and peak RSS. */
export function timeProcess(runtime: Runtime, script: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Measurement> {
  const rssFile = path.join(ROOT, 'bench-data', `.rss-${process.pid}`);
  const [command, prefix] = runtime === 'node' ? [process.execPath, ['--import', NODE_PROBE]] : [PYTHON, [PYTHON_PROBE]];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, [...prefix, script, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, BENCH_RSS_FILE: rssFile, LOG_LEVEL: 'warn', ...env },
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('exit', (code) => {
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0) return reject(new Error(`${path.basename(script)} exited ${code}: ${stderr}`));
      const kib = Number(fs.readFileSync(rssFile, 'utf8'));
      fs.rmSync(rssFile, { force: true });
      resolve({ seconds, peak_rss_mb: kib / 1024 });
    });
  });
}

/** True when /usr/bin/python3 imports every module named. */
export function pythonHas(...modules: string[]): boolean {
  return spawnSync(PYTHON, ['-c', `import ${modules.join(', ')}`], { stdio: 'ignore' }).status === 0;
}

/** True when a command is on the PATH. */
export function commandExists(command: string): boolean {
  return !spawnSync(command, ['--version'], { stdio: 'ignore' }).error;
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** A server process under test. */
export interface Server {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts a server process and waits until `healthPath` answers 200. */
export async function startServer(command: string, args: string[], port: number, healthPath = '/health'): Promise<Server> {
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LOG_LEVEL: 'error' } });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr = (stderr + String(chunk)).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}: ${stderr}`);
    try {
      if ((await fetch(url + healthPath)).ok) return { url, child, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`server did not answer ${healthPath} within 20 s: ${stderr}`);
}

/** What wrk measured. */
export interface LoadResult {
  requests_per_second: number;
  latency_p50_ms: number;
  latency_p99_ms: number;
  latency_max_ms: number;
  requests: number;
  /** Socket errors plus non-2xx answers. */
  errors: number;
}

function milliseconds(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!match) throw new Error(`wrk: unreadable duration "${text}"`);
  const scale = { us: 0.001, ms: 1, s: 1000, m: 60_000 }[match[2] as 'us' | 'ms' | 's' | 'm'];
  return Number(match[1]) * scale;
}

/** Reads wrk's --latency report. */
export function parseWrk(output: string): LoadResult {
  const percentile = (p: string): number => {
    const match = new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(output);
    if (!match) throw new Error(`wrk: no ${p}% line in\n${output}`);
    return milliseconds(match[1]);
  };
  const field = (pattern: RegExp): number => Number(pattern.exec(output)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  return {
    requests_per_second: field(/Requests\/sec:\s+([\d.]+)/),
    latency_p50_ms: percentile('50'),
    latency_p99_ms: percentile('99'),
    latency_max_ms: milliseconds(/Latency\s+\S+\s+\S+\s+(\S+)/.exec(output)?.[1] ?? '0ms'),
    requests: field(/(\d+) requests in/),
    errors: field(/Non-2xx or 3xx responses: (\d+)/) + (socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0),
  };
}

/** Options of one wrk run. */
export interface WrkOptions {
  url: string;
  seconds: number;
  threads?: number;
  connections?: number;
  /** JSON body to POST (through scripts/wrk-post.lua); GET without one. */
  body?: string;
  token?: string;
  /** Requests slower than this count as errors and leave the latency figures (wrk's default: 2 s). */
  timeoutSeconds?: number;
}

/** Runs wrk (asynchronously, so the caller can do other work meanwhile) and parses its report. */
export function runWrk(options: WrkOptions): Promise<LoadResult> {
  const args = ['-t', String(options.threads ?? 2), '-c', String(options.connections ?? 16), '-d', `${options.seconds}s`, '--latency'];
  if (options.timeoutSeconds !== undefined) args.push('--timeout', `${options.timeoutSeconds}s`);
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (options.body !== undefined) {
    const bodyFile = path.join(ROOT, 'bench-data', `.wrk-body-${process.pid}-${Math.random().toString(36).slice(2)}.json`);
    fs.writeFileSync(bodyFile, options.body);
    env.WRK_BODY_FILE = bodyFile;
    env.WRK_TOKEN = options.token ?? '';
    args.push('-s', path.join(ROOT, 'scripts', 'wrk-post.lua'));
  }
  args.push(options.url);
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('exit', (code) => {
      if (env.WRK_BODY_FILE) fs.rmSync(env.WRK_BODY_FILE, { force: true });
      if (code !== 0) return reject(new Error(`wrk exited ${code}: ${output}`));
      try {
        resolve(parseWrk(output));
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  });
}

/** What scripts/latency-probe measured. */
export interface ProbeResult {
  count: number;
  errors: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}

/** Runs the open-loop latency probe (its own process) at `rate` requests a second. */
export function runProbe(url: string, rate: number, seconds: number, body?: string): Promise<ProbeResult> {
  const args = [path.join(DIST, 'scripts', 'latency-probe.js'), url, String(rate), String(seconds)];
  let bodyFile: string | undefined;
  if (body !== undefined) {
    bodyFile = path.join(ROOT, 'bench-data', `.probe-body-${process.pid}-${Math.random().toString(36).slice(2)}.json`);
    fs.writeFileSync(bodyFile, body);
    args.push(bodyFile);
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.on('exit', (code) => {
      if (bodyFile) fs.rmSync(bodyFile, { force: true });
      if (code !== 0) return reject(new Error(`latency-probe exited ${code}`));
      resolve(JSON.parse(output) as ProbeResult);
    });
  });
}

/** The body every /prediction benchmark posts: 50 records. */
export function predictionBody(): string {
  const records = Array.from({ length: 50 }, (_, i) => ({
    lastmonth_activity: 20 + i * 7,
    lastyear_activity: 900 + i * 31,
    number_of_employees: 10 + i,
  }));
  return JSON.stringify({ records });
}

/** A generated data set under bench-data/ with its config file. */
export interface BenchData {
  folder: string;
  configFile: string;
}

/**
 * The project's generator writes `rows` rows in `files` source files (seed 11)
 * and 10,000 test rows, once; later runs reuse them.
 */
export function benchData(rows: number, files: number): BenchData {
  const folder = path.join(ROOT, 'bench-data', `${rows}-rows-${files}-files`);
  const configFile = path.join(folder, 'config.json');
  if (fs.existsSync(path.join(folder, 'ready'))) return { folder, configFile };
  process.stderr.write(`generating ${rows} rows in ${files} files into ${folder} ...\n`);
  fs.rmSync(folder, { recursive: true, force: true });
  const generator = path.join(DIST, 'scripts', 'generate-data.js');
  const common = ['--out', folder, '--seed', '11', '--files', String(files), '--rows', String(Math.ceil(rows / files))];
  execFileSync(process.execPath, [generator, ...common, '--only', 'source'], { stdio: 'ignore' });
  execFileSync(process.execPath, [generator, ...common, '--only', 'test', '--test-rows', '10000'], { stdio: 'ignore' });
  const config = {
    input_folder_path: 'sourcedata',
    output_folder_path: 'ingesteddata',
    test_data_path: 'testdata',
    output_model_path: 'models',
    prod_deployment_path: 'production_deployment',
    automation: { settle_seconds: 0 },
  };
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
  fs.writeFileSync(path.join(folder, 'ready'), new Date().toISOString());
  return { folder, configFile };
}

/** The bench's categorical columns (the generator's), and the config schemas with and without them. */
export const BENCH_CATEGORICAL = CATEGORICAL_COLUMNS.map((column) => column.name);

/** The same generated rows twice: with the five categorical columns, and without them. */
export interface CategoricalBenchData {
  folder: string;
  /** Data with the categorical columns, config listing them as categorical_features. */
  withCategories: BenchData;
  /** The same rows without those columns, default schema. */
  withoutCategories: BenchData;
  /** The data with the categorical columns under the default schema (they are extra columns then). */
  extraColumnsConfig: string;
}

/**
 * The generator (seed 11, categories on, exited 0/1) writes `rows` rows in
 * `files` source files and 10,000 test rows once; the copy without the
 * categorical columns drops them from each line (no field is quoted), so both
 * sets hold the same rows.
 */
export function categoricalBenchData(rows: number, files: number): CategoricalBenchData {
  const folder = path.join(ROOT, 'bench-data', `${rows}-rows-${files}-files-categorical`);
  const make = (name: string, schema: Record<string, unknown>, configName = 'config.json'): BenchData => {
    const configFile = path.join(folder, name, configName);
    const config = {
      input_folder_path: 'sourcedata',
      output_folder_path: 'ingesteddata',
      test_data_path: 'testdata',
      output_model_path: 'models',
      prod_deployment_path: 'production_deployment',
      schema,
      automation: { settle_seconds: 0 },
    };
    fs.mkdirSync(path.dirname(configFile), { recursive: true });
    fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
    return { folder: path.join(folder, name), configFile };
  };
  const result = (): CategoricalBenchData => ({
    folder,
    withCategories: make('with', { categorical_features: BENCH_CATEGORICAL }),
    withoutCategories: make('without', {}),
    extraColumnsConfig: make('with', {}, 'config-extra-columns.json').configFile,
  });
  if (fs.existsSync(path.join(folder, 'ready'))) return result();
  process.stderr.write(`generating ${rows} rows in ${files} files with and without categorical columns into ${folder} ...\n`);
  fs.rmSync(folder, { recursive: true, force: true });
  const generator = path.join(DIST, 'scripts', 'generate-data.js');
  const common = ['--out', path.join(folder, 'with'), '--seed', '11', '--files', String(files), '--rows', String(Math.ceil(rows / files))];
  execFileSync(process.execPath, [generator, ...common, '--categories', '--only', 'source'], { stdio: 'ignore' });
  execFileSync(process.execPath, [generator, ...common, '--categories', '--only', 'test', '--test-rows', '10000'], { stdio: 'ignore' });
  const dropped = new Set(BENCH_CATEGORICAL.map((_, i) => 4 + i));
  for (const sub of ['sourcedata', 'testdata']) {
    fs.mkdirSync(path.join(folder, 'without', sub), { recursive: true });
    for (const name of fs.readdirSync(path.join(folder, 'with', sub))) {
      const lines = fs.readFileSync(path.join(folder, 'with', sub, name), 'utf8').split('\n');
      const kept = lines.map((line) =>
        line === ''
          ? line
          : line
              .split(',')
              .filter((_, i) => !dropped.has(i))
              .join(','),
      );
      fs.writeFileSync(path.join(folder, 'without', sub, name), kept.join('\n'));
    }
  }
  fs.writeFileSync(path.join(folder, 'ready'), new Date().toISOString());
  return result();
}

/** True when the compiled config validator takes `schema.categorical_features` (the categorical core has landed). */
export function hasCategoricalSupport(): boolean {
  const value = {
    input_folder_path: 'in',
    output_folder_path: 'out',
    test_data_path: 'test',
    output_model_path: 'models',
    prod_deployment_path: 'prod',
    schema: { categorical_features: ['region'] },
  };
  try {
    validateConfig(value, path.join(ROOT, 'probe.json'), false);
    return true;
  } catch {
    return false;
  }
}
