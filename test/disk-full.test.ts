/**
 * The store on a full disk (a 256 KiB tmpfs mounted for the test): a write the
 * disk takes only part of is an error, never ignored; no torn run record or
 * half-replaced file remains; every tick whose record cannot be written exits
 * non-zero, names the file on stderr, and is counted where the API publishes
 * it (`risk_unrecorded_ticks_total`) without the history.
 *
 * Needs root to mount (skipped, saying why, where mount is refused).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startServer } from '../src/app.js';
import { runFullprocess, type TickResult } from '../src/fullprocess.js';
import { FILE_NAMES } from '../src/lib/layout.js';
import { silentLogger } from '../src/lib/log.js';
import { appendLine, writeFileAtomic } from '../src/lib/store/files.js';
import { appendRun, readRuns, type RunRecord } from '../src/lib/store/run-history.js';
import { readUnrecordedTicks } from '../src/lib/store/unrecorded-ticks.js';
import { OFFLINE_DEPS, REPO, makeProject, tempFolder } from './helpers.js';
import { parseSamples, samplesOf } from './prometheus-text.js';

let mountPoint = '';
let refused: string | null = null;

before(() => {
  mountPoint = tempFolder('risk-disk-full-');
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mountPoint], { encoding: 'utf8' });
  if (mounted.error) refused = `mount cannot run here (${mounted.error.message})`;
  else if (mounted.status !== 0) refused = `mounting a tmpfs was refused (it needs root): ${mounted.stderr.trim()}`;
});

after(() => {
  if (!refused) spawnSync('umount', [mountPoint]);
});

/** A fresh folder on the small tmpfs. */
function onTmpfs(name: string): string {
  const folder = path.join(mountPoint, name);
  fs.mkdirSync(folder);
  return folder;
}

/** Fills the tmpfs with one file until it takes no more; returns the file (remove it to free the space). */
function fill(name: string): string {
  const filler = path.join(mountPoint, name);
  const fd = fs.openSync(filler, 'w');
  const chunk = Buffer.alloc(4096, 0x78);
  try {
    for (;;) {
      try {
        if (fs.writeSync(fd, chunk) === 0) break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
        throw error;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return filler;
}

/**
 * Fills the last page of `file` with blank lines (readers skip them) until the
 * disk takes no more, then cuts `room` bytes off: the next append of more than
 * `room` bytes is a short write, then ENOSPC.
 */
function leaveRoom(file: string, room: number): void {
  const fd = fs.openSync(file, 'a');
  try {
    for (;;) {
      try {
        if (fs.writeSync(fd, '\n') === 0) break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
        throw error;
      }
    }
    fs.ftruncateSync(fd, fs.fstatSync(fd).size - room);
  } finally {
    fs.closeSync(fd);
  }
}

function record(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    run_id: 'r',
    started_at: '2026-12-04T10:00:00.000Z',
    finished_at: '2026-12-04T10:00:01.000Z',
    duration_ms: 1000,
    config_file: '/c.json',
    outcome: 'no-new-data',
    new_files: [],
    scores: { deployed_f1: 0.8, new_data_f1: null, candidate_f1: null },
    model_drift: null,
    data_drift: null,
    decision: 'nothing new',
    version_before: 1,
    version_after: 1,
    durations: {},
    error: null,
    notes: ['x'.repeat(400)],
    ...overrides,
  };
}

test('an append the disk takes only part of is an error naming the file, and is cut back: no torn record', (t) => {
  if (refused) return t.skip(refused);
  const store = onTmpfs('append');
  appendRun(store, record({ run_id: 'first' }));
  const history = path.join(store, FILE_NAMES.runHistory);
  const filler = fill('filler-append');
  try {
    leaveRoom(history, 100);
    const bytes = fs.readFileSync(history);
    assert.throws(
      () => appendRun(store, record({ run_id: 'second' })),
      (error: NodeJS.ErrnoException) => error.code === 'ENOSPC' && error.path === history,
    );
    assert.deepEqual(fs.readFileSync(history), bytes, 'the partial record was cut back');
    assert.deepEqual(
      readRuns(store).map((r) => r.run_id),
      ['first'],
    );
    // The same for any appended line (the deployment switch log uses it too).
    assert.throws(() => appendLine(history, 'y'.repeat(500) + '\n'), /ENOSPC|no space/);
    assert.deepEqual(fs.readFileSync(history), bytes);
  } finally {
    fs.rmSync(filler);
  }
  appendRun(store, record({ run_id: 'third' }));
  assert.deepEqual(
    readRuns(store).map((r) => r.run_id),
    ['first', 'third'],
    'appends work again once there is room',
  );
});

test('an atomic write the disk cannot take leaves the old file whole and no temporary', (t) => {
  if (refused) return t.skip(refused);
  const folder = onTmpfs('atomic');
  const target = path.join(folder, 'record.json');
  writeFileAtomic(target, '{"old": true}\n');
  const filler = fill('filler-atomic');
  try {
    for (const content of ['z'.repeat(64 * 1024), ['a'.repeat(3000), 'b'.repeat(64 * 1024)]]) {
      assert.throws(
        () => writeFileAtomic(target, content),
        (error: NodeJS.ErrnoException) => error.code === 'ENOSPC' && error.path !== undefined && error.path.startsWith(folder),
      );
      assert.equal(fs.readFileSync(target, 'utf8'), '{"old": true}\n');
      assert.deepEqual(fs.readdirSync(folder), ['record.json'], 'no temporary left');
    }
  } finally {
    fs.rmSync(filler);
  }
});

/** Runs one tick as a process; its exit code, printed result and stderr. */
async function tickProcess(configFile: string): Promise<{ code: number; result: TickResult; stderr: string }> {
  const child = spawn(process.execPath, [path.join(REPO, 'dist', 'src', 'fullprocess.js'), '--config', configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  return { code, result: JSON.parse(stdout) as TickResult, stderr };
}

test('ticks on a full store: each exits non-zero naming the history on stderr, none leaves a torn record, all are counted for the API', async (t) => {
  if (refused) return t.skip(refused);
  const store = onTmpfs('store');
  const project = makeProject({
    extra: { prod_deployment_path: store, automation: { settle_seconds: 0, lock_stale_seconds: 2 }, api: { url: 'http://127.0.0.1:1' } },
  });
  const boot = await runFullprocess(project.config);
  assert.equal(boot.outcome, 'bootstrapped', boot.error ?? boot.decision);
  const history = path.join(store, FILE_NAMES.runHistory);
  const filler = fill('filler-store');
  try {
    leaveRoom(history, 100);
    const bytes = fs.readFileSync(history);
    const ticks = [];
    for (let i = 0; i < 3; i++) ticks.push(await tickProcess(project.configFile));
    for (const [i, tick] of ticks.entries()) {
      assert.notEqual(tick.code, 0, `tick ${i}: exit code`);
      assert.equal(tick.result.outcome, 'failed', `tick ${i}`);
      assert.ok(tick.stderr.includes(history), `tick ${i}: stderr names ${history}:\n${tick.stderr}`);
      assert.match(tick.result.error ?? '', /run record could not be written.*no space left/);
    }
    assert.deepEqual(fs.readFileSync(history), bytes, 'no torn record');
    const unrecorded = readUnrecordedTicks(store);
    assert.equal(unrecorded.unrecorded_ticks, 3, 'every unrecorded tick is counted');
    assert.equal(unrecorded.last?.run_id, ticks[2].result.run_id);

    const server = await startServer(project.config, { port: 0, host: '127.0.0.1' }, silentLogger, OFFLINE_DEPS);
    let text: string;
    try {
      text = await (await fetch(`${server.url}/metrics`)).text();
    } finally {
      await server.close();
    }
    const samples = parseSamples(text);
    assert.equal(samplesOf(samples, 'risk_unrecorded_ticks_total')[0]?.value, 3);
    const lastUnrecorded = samplesOf(samples, 'risk_last_unrecorded_tick_timestamp_seconds')[0]?.value ?? 0;
    const lastRecorded = Math.max(...samplesOf(samples, 'risk_last_tick_timestamp_seconds').map((s) => s.value));
    assert.ok(lastUnrecorded > lastRecorded, 'the newest tick is one that was not recorded');
  } finally {
    fs.rmSync(filler);
  }
  const recovered = await tickProcess(project.configFile);
  assert.equal(recovered.code, 0, recovered.stderr);
  assert.equal(readRuns(store).at(-1)?.run_id, recovered.result.run_id, 'recorded again once there is room');
});
