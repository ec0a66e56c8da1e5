/**
 * reliability-checks: the two reliability promises too big for a unit test,
 * checked on generated data as a user would meet them (whole processes):
 *
 *   lock   A tick on a large data set (default 10,000,000 rows) works for over a
 *          minute, mostly in synchronous stretches; a second tick started 16 s
 *          later must answer `locked`, and exactly one version is deployed.
 *   idle   An idle tick over an input folder of 10,000 small files must stay
 *          well under a second (median of 5 whole processes).
 *
 *   npm run reliability-checks                      # both, full size
 *   npm run reliability-checks -- --only idle --files 10000
 *   npm run reliability-checks -- --only lock --rows 2000000
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import { parseScriptArguments } from '../src/lib/cli.js';
import { CSV_HEADER } from '../src/lib/data/generator.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = (...parts: string[]): string => path.join(projectRoot, 'dist', ...parts);

const program = new Command('reliability-checks')
  .description('Check the tick lock on a large data set and the idle tick over many files')
  .option('--only <check>', 'lock or idle')
  .option('--rows <n>', 'rows for the lock check (10 files)', (v) => Number(v), 10_000_000)
  .option('--files <n>', 'files for the idle check', (v) => Number(v), 10_000)
  .option('--second-after <s>', 'seconds between the two ticks of the lock check', (v) => Number(v), 16);
const options = (parseScriptArguments(program) ?? process.exit()).opts<{
  only?: string;
  rows: number;
  files: number;
  secondAfter: number;
}>();

interface Tick {
  outcome: string;
  decision: string;
  version_after: number | null;
  duration_ms: number;
}

function writeProject(root: string, extra: Record<string, unknown> = {}): string {
  const configFile = path.join(root, 'config.json');
  const config = {
    input_folder_path: 'input',
    output_folder_path: 'ingesteddata',
    test_data_path: 'testdata',
    output_model_path: 'models',
    prod_deployment_path: 'production_deployment',
    automation: { settle_seconds: 0 },
    diagnostics: { outdated_timeout_ms: 2000 },
    ...extra,
  };
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
  return configFile;
}

async function tick(configFile: string): Promise<{ result: Tick; ms: number; peakMb: number }> {
  const started = performance.now();
  const rssFile = path.join(os.tmpdir(), `risk-rss-${process.pid}-${Math.random().toString(16).slice(2)}`);
  const child = spawn(
    process.execPath,
    ['--import', pathToImport(dist('scripts', 'rss-probe.js')), dist('src', 'fullprocess.js'), '--config', configFile],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...process.env, BENCH_RSS_FILE: rssFile, LOG_LEVEL: 'error' },
    },
  );
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  await once(child, 'close');
  const peakMb = fs.existsSync(rssFile) ? Number(fs.readFileSync(rssFile, 'utf8')) / 1024 : NaN;
  fs.rmSync(rssFile, { force: true });
  return { result: JSON.parse(stdout) as Tick, ms: performance.now() - started, peakMb };
}

function pathToImport(file: string): string {
  return new URL(`file://${file}`).href;
}

async function lockCheck(): Promise<boolean> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'risk-lockcheck-'));
  try {
    console.log(`lock: generating ${options.rows.toLocaleString('en')} rows in 10 files...`);
    const rowsPerFile = Math.ceil(options.rows / 10);
    execFileSync(
      process.execPath,
      [dist('scripts', 'generate-data.js'), '--out', root, '--rows', String(rowsPerFile), '--files', '10', '--seed', '5'],
      {
        stdio: 'ignore',
      },
    );
    fs.renameSync(path.join(root, 'practicedata'), path.join(root, 'input'));
    const configFile = writeProject(root);
    console.log(`lock: first tick (bootstrap) started; a second tick follows ${options.secondAfter} s later`);
    const first = tick(configFile);
    await sleep(options.secondAfter * 1000);
    const second = await tick(configFile);
    console.log(`lock: second tick: ${second.result.outcome} (${second.result.decision}) after ${(second.ms / 1000).toFixed(2)} s`);
    const done = await first;
    console.log(
      `lock: first tick: ${done.result.outcome} in ${(done.ms / 1000).toFixed(1)} s, peak ${done.peakMb.toFixed(0)} MB; ${done.result.decision}`,
    );
    const versions = fs.readdirSync(path.join(root, 'production_deployment', 'versions')).filter((name) => /^\d+$/.test(name));
    const ok =
      second.result.outcome === 'locked' &&
      done.result.outcome === 'bootstrapped' &&
      versions.length === 1 &&
      done.ms > options.secondAfter * 1000;
    console.log(
      `lock: versions deployed: ${versions.join(', ')} -> ${ok ? 'OK' : 'FAILED'}${done.ms <= options.secondAfter * 1000 ? ' (the first tick ended before the second started: use more rows)' : ''}`,
    );
    return ok;
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

async function idleCheck(): Promise<boolean> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'risk-idlecheck-'));
  try {
    const input = path.join(root, 'input');
    fs.mkdirSync(input);
    fs.mkdirSync(path.join(root, 'testdata'));
    console.log(`idle: writing ${options.files.toLocaleString('en')} small files...`);
    for (let i = 0; i < options.files; i++) {
      const rows = [0, 1, 2, 3].map(
        (r) => `c${i}-${r},${(i * 7 + r * 13) % 400},${(i * 11 + r * 29) % 5000},${(i + r) % 90},${(i + r) % 3 === 0 ? 1 : 0}`,
      );
      fs.writeFileSync(path.join(input, `file${String(i).padStart(5, '0')}.csv`), [CSV_HEADER, ...rows].join('\n') + '\n');
    }
    execFileSync(process.execPath, [dist('scripts', 'generate-data.js'), '--out', root, '--only', 'test', '--test-rows', '400'], {
      stdio: 'ignore',
    });
    const configFile = writeProject(root);
    const boot = await tick(configFile);
    console.log(`idle: bootstrap over ${options.files} files: ${boot.result.outcome} in ${(boot.ms / 1000).toFixed(1)} s`);
    const times: number[] = [];
    for (let run = 0; run < 5; run++) {
      const idle = await tick(configFile);
      if (idle.result.outcome !== 'no-new-data') throw new Error(`idle tick answered ${idle.result.outcome}: ${idle.result.decision}`);
      times.push(idle.ms / 1000);
    }
    times.sort((a, b) => a - b);
    const median = times[2];
    console.log(
      `idle: ${options.files} files, idle tick as a process: median ${median.toFixed(3)} s (min ${times[0].toFixed(3)}, max ${times[4].toFixed(3)})`,
    );
    return median < 1;
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

const results: boolean[] = [];
if (options.only === undefined || options.only === 'idle') results.push(await idleCheck());
if (options.only === undefined || options.only === 'lock') results.push(await lockCheck());
process.exitCode = results.every(Boolean) ? 0 : 1;
