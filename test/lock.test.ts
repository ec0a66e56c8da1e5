/**
 * The tick lock holds while its holder lives, whatever the holder does (a
 * synchronous stretch of minutes on big data included), and is taken over as
 * soon as the holder is gone; only one of many racing takers wins; a
 * rollback or a deployment takes the same lock.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { rollbackDeployment } from '../src/deployment.js';
import { BusyError } from '../src/lib/errors.js';
import { FILE_NAMES } from '../src/lib/layout.js';
import { isHeld, ownerIsAlive, parseOwner, tryLock } from '../src/lib/store/lock.js';
import { REPO, makeProject, tempFolder } from './helpers.js';

const LOCK_MODULE = path.join(REPO, 'dist', 'src', 'lib', 'store', 'lock.js');

/** A process that takes the lock, prints "held" or "busy", then runs `then` (JavaScript) and stays alive. */
function lockHolder(folder: string, then = ''): { child: ChildProcess; answer: Promise<string> } {
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { tryLock } = await import(${JSON.stringify(LOCK_MODULE)});
       const lock = tryLock(${JSON.stringify(folder)}, 1);
       process.stdout.write(('release' in lock ? 'held' : 'busy') + '\\n');
       ${then}
       setInterval(() => {}, 1000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const answer = once(child.stdout, 'data').then(([chunk]) => (chunk as Buffer).toString().trim());
  return { child, answer };
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/** Writes a lock link by hand with the given owner record. */
function plantLock(folder: string, target: string): void {
  fs.mkdirSync(folder, { recursive: true });
  fs.symlinkSync(target, path.join(folder, FILE_NAMES.lock));
}

test('a holder that blocks its event loop for longer than lock_stale_seconds keeps the lock; once killed, the next taker gets it', async () => {
  const folder = tempFolder();
  // The holder busy-waits 4 s right after taking the lock: no timer of its own can run meanwhile.
  const { child, answer } = lockHolder(
    folder,
    `const until = Date.now() + 4000; while (Date.now() < until) {} process.stdout.write('done\\n');`,
  );
  try {
    assert.equal(await answer, 'held');
    const during = tryLock(folder, 1);
    assert.equal(isHeld(during), false, 'a synchronous stretch longer than the stale time does not make the lock look stale');
    assert.ok(!isHeld(during) && during.holder?.pid === child.pid, 'the refusal names the holder');
    await once(child.stdout!, 'data');
    assert.equal(isHeld(tryLock(folder, 1)), false, 'still held after the stretch, while the holder lives');
  } finally {
    await kill(child);
  }
  const after = tryLock(folder, 1);
  assert.ok(isHeld(after), 'taken over right after the holder was killed');
  assert.equal(after.owner.pid, process.pid);
  after.release();
  assert.equal(fs.lstatSync(path.join(folder, FILE_NAMES.lock), { throwIfNoEntry: false }), undefined, 'released');
});

test('lock owners: dead, reused process id, other host, unreadable or old-style locks', () => {
  const host = encodeURIComponent(os.hostname());
  const me = parseOwner(
    fs.readlinkSync(
      (() => {
        const folder = tempFolder();
        const lock = tryLock(folder, 1);
        assert.ok(isHeld(lock));
        return path.join(folder, FILE_NAMES.lock);
      })(),
    ),
  )!;
  assert.equal(me.pid, process.pid);
  const cases: { name: string; plant: (folder: string) => void; taken: boolean; reason?: RegExp }[] = [
    {
      name: 'an owner of this host that no longer runs',
      plant: (f) => plantLock(f, `pid=999999 start=1 host=${host} at=2026-01-01T00:00:00Z`),
      taken: true,
    },
    {
      name: 'a live process id that started at another time (reused)',
      plant: (f) => plantLock(f, `pid=${process.pid} start=${(me.start ?? 0) + 1} host=${host} at=2026-01-01T00:00:00Z`),
      taken: me.start !== null,
    },
    {
      name: 'an owner on another host',
      plant: (f) => plantLock(f, `pid=1 start=1 host=elsewhere.example at=2026-01-01T00:00:00Z`),
      taken: false,
      reason: /host elsewhere\.example/,
    },
    { name: 'an unreadable owner, fresh', plant: (f) => plantLock(f, 'garbage'), taken: false, reason: /unknown owner/ },
    {
      name: 'an old-style lock folder, older than the stale time',
      plant: (f) => {
        fs.mkdirSync(path.join(f, FILE_NAMES.lock), { recursive: true });
        const old = new Date(Date.now() - 60_000);
        fs.utimesSync(path.join(f, FILE_NAMES.lock), old, old);
      },
      taken: true,
    },
    {
      name: 'an old-style lock folder, fresh',
      plant: (f) => fs.mkdirSync(path.join(f, FILE_NAMES.lock), { recursive: true }),
      taken: false,
      reason: /unknown owner/,
    },
    {
      name: 'a dead owner and a takeover marker left by a dead taker',
      plant: (f) => {
        plantLock(f, `pid=999999 start=1 host=${host} at=2026-01-01T00:00:00Z`);
        fs.symlinkSync(`pid=999998 start=1 host=${host} at=2026-01-01T00:00:00Z`, path.join(f, `${FILE_NAMES.lock}.takeover`));
      },
      taken: true,
    },
  ];
  for (const c of cases) {
    const folder = tempFolder();
    c.plant(folder);
    const result = tryLock(folder, 15);
    assert.equal(isHeld(result), c.taken, c.name);
    if (isHeld(result)) {
      assert.equal(parseOwner(fs.readlinkSync(path.join(folder, FILE_NAMES.lock)))!.pid, process.pid, `${c.name}: now ours`);
      result.release();
    } else if (c.reason) {
      assert.match(result.reason, c.reason, c.name);
    }
  }
  assert.equal(ownerIsAlive({ pid: process.pid, start: me.start, host: os.hostname(), at: '' }), true);
});

test('release leaves a lock that another holder took alone', () => {
  const folder = tempFolder();
  const mine = tryLock(folder, 1);
  assert.ok(isHeld(mine));
  // Someone removed our lock by hand and another tick took it.
  fs.rmSync(path.join(folder, FILE_NAMES.lock));
  plantLock(folder, `pid=1 start=1 host=elsewhere.example at=2026-01-01T00:00:00Z`);
  mine.release();
  assert.match(fs.readlinkSync(path.join(folder, FILE_NAMES.lock)), /elsewhere/);
});

test('eight processes racing for a dead lock: exactly one holds it', async () => {
  for (let round = 0; round < 3; round++) {
    const folder = tempFolder();
    plantLock(folder, `pid=999999 start=1 host=${encodeURIComponent(os.hostname())} at=2026-01-01T00:00:00Z`);
    const holders = Array.from({ length: 8 }, () => lockHolder(folder));
    try {
      const answers = await Promise.all(holders.map((h) => h.answer));
      assert.equal(answers.filter((a) => a === 'held').length, 1, `round ${round}: ${answers.join(', ')}`);
    } finally {
      await Promise.all(holders.map((h) => kill(h.child)));
    }
  }
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
