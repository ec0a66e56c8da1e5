/**
 * The tick lock is a lease: it holds while its holder renews it, whatever the
 * holder does (a synchronous stretch longer than the stale time included) and
 * whatever its host or PID namespace; a lease not renewed for the stale time is
 * taken over, from any host; only one of many racing takers wins; a rollback
 * takes the same lock.
 *
 * Other hosts are made with `unshare --uts` (another hostname) and other PID
 * namespaces with `unshare --pid --fork --mount-proc` (the holder is pid 1 there,
 * with its own /proc as in a container, under the same hostname: the lock that
 * judged owners by pid and /proc start time took this live holder over); those
 * tests skip, saying why, where unshare is not permitted.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { rollbackDeployment } from '../src/deployment.js';
import { BusyError } from '../src/lib/errors.js';
import { isHeld, lockFolderOf, readLease, renewalIntervalMs, tryLock, type LockOwner } from '../src/lib/store/lock.js';
import { REPO, makeProject, tempFolder } from './helpers.js';

const LOCK_MODULE = path.join(REPO, 'dist', 'src', 'lib', 'store', 'lock.js');
/** Small, so the tests are short; the renewal runs every fifth of it. */
const STALE = 3;

/** How a holder process is started: here, on another host, or in another PID namespace. */
type Place = { name: string; prefix: string[] };
const HERE: Place = { name: 'this host', prefix: [] };
const OTHER_HOST: Place = {
  name: 'another host (UTS namespace)',
  prefix: ['unshare', '--uts', 'sh', '-c', 'hostname "$0" && exec "$@"', 'other-host.test'],
};
const OTHER_PIDS: Place = {
  name: 'another PID namespace, same hostname',
  prefix: ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child=SIGKILL'],
};

function unshareRefused(): string | null {
  const probe = spawnSync('unshare', ['--uts', '--pid', '--fork', '--mount-proc', 'true'], { stdio: 'ignore' });
  if (probe.error) return `unshare cannot run here (${probe.error.message})`;
  return probe.status === 0 ? null : `unshare --uts --pid is not permitted here (exit ${probe.status}; it needs root or user namespaces)`;
}

/**
 * A process that takes the lock of `store`, prints "held <owner json>" or "busy",
 * then runs `then` (JavaScript; it may print more lines) and stays alive.
 */
function lockHolder(store: string, place: Place = HERE, then = ''): { child: ChildProcess; lines: AsyncIterator<string> } {
  const code = `const { tryLock } = await import(${JSON.stringify(LOCK_MODULE)});
       const lock = tryLock(${JSON.stringify(store)}, ${STALE});
       process.stdout.write(('release' in lock ? 'held ' + JSON.stringify(lock.owner) : 'busy') + '\\n');
       ${then}
       setInterval(() => {}, 1000);`;
  const command = [...place.prefix, process.execPath, '--input-type=module', '-e', code];
  const child = spawn(command[0], command.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return { child, lines };
}

async function nextLine(lines: AsyncIterator<string>): Promise<string> {
  const { value, done } = await lines.next();
  assert.ok(!done, 'the holder ended early');
  return value;
}

async function heldBy(lines: AsyncIterator<string>): Promise<LockOwner> {
  const line = await nextLine(lines);
  assert.match(line, /^held /);
  return JSON.parse(line.slice(5)) as LockOwner;
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/** A busy wait of `ms` in the holder's own thread (no timer of its thread can run), then "done". */
const block = (ms: number): string => `const until = Date.now() + ${ms}; while (Date.now() < until) {} process.stdout.write('done\\n');`;

/** Asks for the lock again and again until the holder prints its next line; every answer must be a refusal by `owner`. */
async function refusedUntilNextLine(store: string, owner: LockOwner, lines: AsyncIterator<string>): Promise<number> {
  let asked = 0;
  let finished = false;
  const done = nextLine(lines).then((line) => {
    finished = true;
    return line;
  });
  while (!finished) {
    const result = tryLock(store, STALE);
    asked++;
    if (isHeld(result)) {
      result.release();
      assert.fail(`taken over while the holder ${owner.purpose} pid ${owner.pid} on ${owner.host} was alive`);
    }
    assert.equal(result.holder?.token, owner.token, 'the refusal names the live holder');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(await done, 'done');
  return asked;
}

/**
 * Asks for the lock until it is taken over (bounded); each refusal must come
 * while the dead holder's lease is younger than the stale time, as the lease says.
 */
async function takeOverAfterStale(store: string, dead: LockOwner) {
  const deadline = Date.now() + 30 * STALE * 1000;
  for (;;) {
    const lease = readLease(lockFolderOf(store), STALE);
    const result = tryLock(store, STALE);
    if (isHeld(result)) return { lock: result, lease };
    assert.equal(result.holder?.token, dead.token);
    assert.ok(lease?.live, 'refused only while the lease is younger than the stale time');
    assert.ok(Date.now() < deadline, `not taken over within ${30 * STALE} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('a holder that blocks its thread for longer than the stale time keeps the lock; once killed, it is taken over after the stale time', async () => {
  const store = tempFolder();
  const { child, lines } = lockHolder(store, HERE, block(2.5 * STALE * 1000));
  try {
    const owner = await heldBy(lines);
    assert.equal(owner.pid, child.pid);
    const asked = await refusedUntilNextLine(store, owner, lines);
    assert.ok(asked > 1, `asked ${asked} times during the stretch`);
    assert.equal(isHeld(tryLock(store, STALE)), false, 'still held after the stretch, while the holder lives');
    await kill(child);
    const { lock, lease } = await takeOverAfterStale(store, owner);
    assert.equal(lease?.owner?.token, owner.token, 'the lease taken over was the dead holder’s');
    lock.release();
  } finally {
    await kill(child);
  }
  const after = readLease(lockFolderOf(store), STALE);
  assert.equal(after?.live, false, 'released: the lease is expired');
  assert.ok(isHeld(tryLock(store, STALE)), 'a released lease is taken at once');
});

test('leases: stale, fresh, released, unreadable, another host; older leases swept, numbers only grow', () => {
  const plant = (store: string, n: number, owner: Partial<LockOwner> | string, ageSeconds: number | 'released'): void => {
    const folder = lockFolderOf(store);
    fs.mkdirSync(folder, { recursive: true });
    const file = path.join(folder, `${n}.lease`);
    fs.writeFileSync(
      file,
      typeof owner === 'string'
        ? owner
        : JSON.stringify({ token: 'planted', purpose: 'fullprocess tick', acquired_at: '2026-01-01T00:00:00Z', ...owner }),
    );
    const time = ageSeconds === 'released' ? 0 : (Date.now() - ageSeconds * 1000) / 1000;
    fs.utimesSync(file, time, time);
  };
  const cases: { name: string; plant: (store: string) => void; taken: boolean; reason?: RegExp; number?: number }[] = [
    { name: 'no lease at all', plant: () => {}, taken: true, number: 1 },
    {
      name: 'a lease not renewed for the stale time',
      plant: (s) => plant(s, 4, { pid: 1, host: os.hostname() }, STALE + 1),
      taken: true,
      number: 5,
    },
    {
      name: 'a fresh lease of a process id that does not run here (another PID namespace)',
      plant: (s) => plant(s, 4, { pid: 999_999, host: os.hostname() }, 0),
      taken: false,
      reason: /pid 999999 on host/,
    },
    {
      name: 'a fresh lease on another host',
      plant: (s) => plant(s, 2, { pid: 1, host: 'elsewhere.example' }, 0),
      taken: false,
      reason: /host elsewhere\.example .*renewed/,
    },
    { name: 'a fresh unreadable lease', plant: (s) => plant(s, 1, 'garbage', 0), taken: false, reason: /unreadable lease/ },
    { name: 'a released lease', plant: (s) => plant(s, 9, { pid: process.pid, host: os.hostname() }, 'released'), taken: true, number: 10 },
    {
      name: 'a fresh lease above a stale one: the newest decides',
      plant: (s) => {
        plant(s, 3, { pid: 1, host: 'a' }, STALE + 5);
        plant(s, 4, { pid: 2, host: 'b' }, 0);
      },
      taken: false,
      reason: /host b /,
    },
  ];
  for (const c of cases) {
    const store = tempFolder();
    c.plant(store);
    const result = tryLock(store, STALE);
    assert.equal(isHeld(result), c.taken, c.name);
    if (isHeld(result)) {
      const names = fs.readdirSync(lockFolderOf(store));
      assert.deepEqual(names, [`${c.number}.lease`], `${c.name}: older leases swept`);
      assert.equal(readLease(lockFolderOf(store), STALE)?.owner?.token, result.owner.token, `${c.name}: now ours`);
      assert.equal(result.lost(), null);
      result.release();
      assert.ok(result.lost(), 'released');
    } else if (c.reason) {
      assert.match(result.reason, c.reason, c.name);
    }
  }
});

test('a superseded holder knows it lost the lease, and its release leaves the newer lease alone', () => {
  const store = tempFolder();
  const mine = tryLock(store, STALE);
  assert.ok(isHeld(mine));
  // As if this holder had been suspended for longer than the stale time and taken over.
  const folder = lockFolderOf(store);
  fs.writeFileSync(
    path.join(folder, '2.lease'),
    JSON.stringify({ token: 'other', pid: 1, host: 'elsewhere.example', purpose: 'fullprocess tick' }),
  );
  assert.match(mine.lost() ?? '', /superseded by lease 2/);
  const before = fs.statSync(path.join(folder, '2.lease')).mtimeMs;
  mine.release();
  const other = readLease(folder, STALE);
  assert.equal(other?.owner?.token, 'other');
  assert.equal(other?.renewedAtMs, before, 'the newer lease is untouched');
  assert.equal(other?.live, true);
});

test('eight processes racing for a dead lock: exactly one holds it', async () => {
  for (let round = 0; round < 3; round++) {
    const store = tempFolder();
    const folder = lockFolderOf(store);
    fs.mkdirSync(folder);
    fs.writeFileSync(path.join(folder, '1.lease'), JSON.stringify({ token: 'dead', pid: 999_999, host: os.hostname() }));
    const old = (Date.now() - (STALE + 1) * 1000) / 1000;
    fs.utimesSync(path.join(folder, '1.lease'), old, old);
    const holders = Array.from({ length: 8 }, () => lockHolder(store));
    try {
      const answers = await Promise.all(holders.map((h) => nextLine(h.lines)));
      assert.equal(answers.filter((a) => a.startsWith('held')).length, 1, `round ${round}: ${answers.join(', ')}`);
      assert.equal(answers.filter((a) => a === 'busy').length, 7);
    } finally {
      await Promise.all(holders.map((h) => kill(h.child)));
    }
  }
});

test('a holder on another host (UTS namespace) killed with -9 is taken over after the stale time', async (t) => {
  const refused = unshareRefused();
  if (refused) return t.skip(refused);
  const store = tempFolder();
  const { child, lines } = lockHolder(store, OTHER_HOST);
  try {
    const owner = await heldBy(lines);
    assert.equal(owner.host, 'other-host.test');
    const refusal = tryLock(store, STALE);
    assert.ok(!isHeld(refusal));
    assert.match(refusal.reason, /host other-host\.test/);
    await kill(child);
    const { lock } = await takeOverAfterStale(store, owner);
    assert.equal(lock.owner.host, os.hostname());
    lock.release();
  } finally {
    await kill(child);
  }
});

for (const place of [OTHER_HOST, OTHER_PIDS]) {
  test(`a live holder in ${place.name}, blocked in computation for longer than the stale time, is not taken over`, async (t) => {
    const refused = unshareRefused();
    if (refused) return t.skip(refused);
    const store = tempFolder();
    const { child, lines } = lockHolder(store, place, block(2.5 * STALE * 1000));
    try {
      const owner = await heldBy(lines);
      if (place === OTHER_PIDS) {
        assert.equal(owner.pid, 1, 'the holder is pid 1 of its namespace');
        assert.equal(owner.host, os.hostname(), 'under the same hostname');
      }
      await refusedUntilNextLine(store, owner, lines);
      assert.equal(isHeld(tryLock(store, STALE)), false, 'still held after the stretch');
    } finally {
      await kill(child);
    }
  });
}

test('the renewal interval is a fifth of the stale time', () => {
  assert.equal(renewalIntervalMs(10), 2000);
  assert.equal(renewalIntervalMs(STALE), 600);
});

test('a rollback takes the tick lock: refused (BusyError, exit 1) while a tick holds it', async () => {
  const project = makeProject();
  const lock = tryLock(project.config.prod_deployment_path, 15);
  assert.ok(isHeld(lock));
  try {
    assert.throws(
      () => rollbackDeployment(project.config),
      (error: unknown) => error instanceof BusyError && error.exitCode === 1 && /fullprocess tick .* is running/.test(error.message),
    );
    const cli = spawn(process.execPath, [path.join(REPO, 'dist', 'src', 'deployment.js'), '--config', project.configFile, '--rollback'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LOG_LEVEL: 'silent' },
    });
    let stdout = '';
    cli.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const [code] = (await once(cli, 'exit')) as [number];
    assert.equal(code, 1);
    assert.match(JSON.parse(stdout).error, /try again when it ends/);
  } finally {
    lock.release();
  }
});
