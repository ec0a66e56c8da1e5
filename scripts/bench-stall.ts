/**
 * bench-stall: does heavy work stall the API? Open-loop probes
 * (scripts/latency-probe.ts) time GET /health and POST /prediction (50
 * records) at a steady rate, over a background wrk load on /prediction, while
 * a driver keeps /summarystats, /scoring and /diagnostics recomputing over
 * 1,000,000 rows (it touches finaldata.csv and a 1,000,000-row testdata.csv
 * before each request, so every answer is a fresh read). The same load without
 * the driver gives the quiet baseline. Open loop because a closed-loop load
 * generator hides a stall: it just sends fewer requests while the server is stuck.
 *
 *   npm run bench:stall
 *   npm run bench:stall -- --seconds 20 --workers 1,2
 *   npm run bench:stall -- --app ../before/dist/src/app.js   # another build, same load
 *
 * Uses the data set of `npm run bench` (generated if missing), with a scratch
 * config in bench-data/stall/. Results: a table on stdout, JSON in bench-results/.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import {
  ROOT,
  benchData,
  commandExists,
  freePort,
  predictionBody,
  runProbe,
  runWrk,
  stage,
  startServer,
  timeProcess,
  type LoadResult,
  type ProbeResult,
} from './bench-lib.js';

const options = new Command('bench-stall')
  .option('--rows <n>', 'rows of the data the heavy endpoints read', (v) => Number(v), 1_000_000)
  .option('--seconds <n>', 'duration of each load run', (v) => Number(v), 15)
  .option('--rate <n>', 'requests a second of each open-loop probe', (v) => Number(v), 50)
  .option('--workers <list>', 'server processes to try, comma-separated', '1,2')
  .option('--app <script>', "serve with this build's dist/src/app.js instead (to compare with another checkout)")
  .parse()
  .opts<{ rows: number; seconds: number; rate: number; workers: string; app?: string }>();

if (!commandExists('wrk')) {
  process.stderr.write('bench-stall needs wrk (Debian package wrk)\n');
  process.exit(2);
}

const data = benchData(options.rows, 10);
const dataArgs = ['--config', data.configFile];
const finalData = path.join(data.folder, 'ingesteddata', 'finaldata.csv');
if (!fs.existsSync(finalData)) await timeProcess('node', stage('ingestion'), dataArgs);
if (!fs.existsSync(path.join(data.folder, 'production_deployment', 'current'))) {
  await timeProcess('node', stage('training'), dataArgs);
  await timeProcess('node', stage('scoring'), dataArgs);
  await timeProcess('node', stage('deployment'), dataArgs);
}

// A scratch project reading the same finaldata.csv and deployment, with a test file as large.
const stall = path.join(ROOT, 'bench-data', 'stall');
fs.mkdirSync(path.join(stall, 'testdata'), { recursive: true });
fs.mkdirSync(path.join(stall, 'models'), { recursive: true });
fs.mkdirSync(path.join(stall, 'sourcedata'), { recursive: true });
const testData = path.join(stall, 'testdata', 'testdata.csv');
fs.copyFileSync(finalData, testData);
const configFile = path.join(stall, 'config.json');
fs.writeFileSync(
  configFile,
  JSON.stringify(
    {
      input_folder_path: 'sourcedata',
      output_folder_path: path.join(data.folder, 'ingesteddata'),
      test_data_path: 'testdata',
      output_model_path: 'models',
      prod_deployment_path: path.join(data.folder, 'production_deployment'),
    },
    null,
    2,
  ),
);

/** Keeps the heavy endpoints recomputing until `stop` resolves; each request waits for its answer. */
async function recompute(url: string, stop: Promise<void>): Promise<{ endpoint: string; ms: number; status: number }[]> {
  let stopped = false;
  void stop.then(() => (stopped = true));
  const answers: { endpoint: string; ms: number; status: number }[] = [];
  const endpoints = ['/summarystats', '/scoring', '/diagnostics'];
  for (let i = 0; !stopped; i++) {
    const endpoint = endpoints[i % endpoints.length];
    // A new mtime: the caches see a changed file and read it again.
    const now = new Date(Date.now() + i);
    fs.utimesSync(endpoint === '/scoring' ? testData : finalData, now, now);
    const started = performance.now();
    const res = await fetch(url + endpoint);
    await res.arrayBuffer();
    answers.push({ endpoint, ms: performance.now() - started, status: res.status });
  }
  return answers;
}

interface Run {
  workers: number;
  heavy: boolean;
  health: ProbeResult;
  prediction: ProbeResult;
  load: LoadResult;
  recomputes: { endpoint: string; ms: number; status: number }[];
}

const body = predictionBody();
const runs: Run[] = [];
for (const workers of options.workers.split(',').map(Number)) {
  const port = await freePort();
  const app = options.app ? path.resolve(options.app) : stage('app');
  const server = await startServer(
    process.execPath,
    [app, '--config', configFile, '--port', String(port), '--workers', String(workers)],
    port,
  );
  try {
    // Warm up: the model, the report worker threads, the dependency check (cached afterwards).
    await runWrk({ url: server.url + '/prediction', seconds: 1, body, threads: 1, connections: 4 });
    for (const endpoint of ['/summarystats', '/scoring', '/diagnostics', '/diagnostics'])
      await (await fetch(server.url + endpoint)).arrayBuffer();
    for (const heavy of [false, true]) {
      process.stderr.write(`${workers} worker(s), ${heavy ? 'while the heavy endpoints recompute' : 'quiet'}, ${options.seconds} s ...\n`);
      let finish!: () => void;
      const stop = new Promise<void>((resolve) => (finish = resolve));
      const driver = heavy ? recompute(server.url, stop) : Promise.resolve([]);
      const [health, prediction, load] = await Promise.all([
        runProbe(server.url + '/health', options.rate, options.seconds),
        runProbe(server.url + '/prediction', options.rate, options.seconds, body),
        runWrk({ url: server.url + '/prediction', seconds: options.seconds, threads: 1, connections: 4, body, timeoutSeconds: 30 }),
      ]);
      finish();
      runs.push({ workers, heavy, health, prediction, load, recomputes: await driver });
    }
  } finally {
    await server.stop();
  }
}

const lines = [
  `bench-stall ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} CPUs, node ${process.version}, ${options.rows.toLocaleString('en')} rows, ${options.seconds} s a run`,
  `probes: ${options.rate} requests/s each, open loop; background load: wrk 1 thread, 4 connections on POST /prediction`,
  '',
  '| server | heavy endpoints | GET /health p50 / p99 / max | POST /prediction p50 / p99 / max | wrk /prediction req/s, p99 / max | recomputes: count, median ms | p99 < 25 ms |',
  '|---|---|---|---|---|---|---|',
];
const ms = (v: number): string => v.toFixed(1);
const probe = (p: ProbeResult): string =>
  `${ms(p.p50_ms)} / ${ms(p.p99_ms)} / ${ms(p.max_ms)} ms${p.errors ? ` (${p.errors} errors)` : ''}`;
for (const run of runs) {
  const byEndpoint = ['/summarystats', '/scoring', '/diagnostics']
    .map((endpoint) => {
      const times = run.recomputes
        .filter((r) => r.endpoint === endpoint)
        .map((r) => r.ms)
        .sort((a, b) => a - b);
      return times.length ? `${endpoint} ${times.length}x ${Math.round(times[times.length >> 1])}` : '';
    })
    .filter(Boolean)
    .join(', ');
  const failed = run.recomputes.filter((r) => r.status !== 200).length;
  const met = run.health.p99_ms < 25 && run.prediction.p99_ms < 25 && run.health.errors + run.prediction.errors === 0;
  lines.push(
    `| ${run.workers} worker(s) | ${run.heavy ? 'recomputing' : 'quiet'} | ${probe(run.health)} | ${probe(run.prediction)} | ${Math.round(run.load.requests_per_second)}, ${ms(run.load.latency_p99_ms)} / ${ms(run.load.latency_max_ms)} ms${run.load.errors ? ` (${run.load.errors} errors)` : ''} | ${run.heavy ? byEndpoint + (failed ? ` (${failed} not 200)` : '') : ''} | ${met ? 'met' : 'NOT met'} |`,
  );
}
process.stdout.write(lines.join('\n') + '\n');
fs.mkdirSync(path.join(ROOT, 'bench-results'), { recursive: true });
const out = path.join(ROOT, 'bench-results', `bench-stall-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), rows: options.rows, rate: options.rate, runs }, null, 2) + '\n');
process.stdout.write(`\nJSON: ${path.relative(ROOT, out)}\n`);
