/**
 * install-cron against a crontab stand-in on PATH (a script keeping the table
 * in a temp file): two configs side by side, the schedule from the config and
 * --schedule over it, idempotence, --remove, --list, an invalid config leaving
 * the crontab untouched, and the installed line run as cron runs it writing a
 * log of JSON lines.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { REPO, makeProject, tempFolder, type TempProject } from './helpers.js';

const SCRIPT = path.join(REPO, 'dist', 'scripts', 'install-cron.js');

/** A crontab(1) stand-in: -l, -r and - on the file $FAKE_CRONTAB; each call is appended to $FAKE_CRONTAB.calls. */
const FAKE_CRONTAB = `#!/bin/sh
echo "$*" >> "$FAKE_CRONTAB.calls"
case "$1" in
  -l) if [ -f "$FAKE_CRONTAB" ]; then cat "$FAKE_CRONTAB"; else echo "no crontab for tester" >&2; exit 1; fi ;;
  -r) if [ -f "$FAKE_CRONTAB" ]; then rm "$FAKE_CRONTAB"; else echo "no crontab for tester" >&2; exit 1; fi ;;
  -) cat > "$FAKE_CRONTAB" ;;
  *) echo "crontab: usage" >&2; exit 1 ;;
esac
`;

/** A crontab stand-in with its own table. */
class FakeCron {
  readonly folder = tempFolder('risk-cron-');
  readonly table = path.join(this.folder, 'crontab');

  constructor(initial?: string) {
    fs.mkdirSync(path.join(this.folder, 'bin'));
    fs.writeFileSync(path.join(this.folder, 'bin', 'crontab'), FAKE_CRONTAB, { mode: 0o755 });
    if (initial !== undefined) fs.writeFileSync(this.table, initial);
  }

  /** Runs install-cron with `args`; stdout parsed as the one JSON result. */
  run(...args: string[]): { status: number | null; result: any; stderr: string } {
    const child = spawnSync(process.execPath, [SCRIPT, ...args], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${path.join(this.folder, 'bin')}:${process.env.PATH}`, FAKE_CRONTAB: this.table },
    });
    assert.equal(child.stdout.trim().split('\n').length, 1, `one JSON line on stdout: ${child.stdout}`);
    return { status: child.status, result: JSON.parse(child.stdout), stderr: child.stderr };
  }

  text(): string | null {
    return fs.existsSync(this.table) ? fs.readFileSync(this.table, 'utf8') : null;
  }

  calls(): string[] {
    const file = this.table + '.calls';
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n') : [];
  }

  ours(): string[] {
    return (this.text() ?? '').split('\n').filter((line) => line.includes('# dynamic-risk-assessment fullprocess'));
  }
}

const OTHER = 'MAILTO=ops@example.com\n0 3 * * * /usr/bin/backup\n';

function projectWith(automation: Record<string, unknown> = {}): TempProject {
  return makeProject({ extra: { automation } });
}

describe('install-cron', () => {
  test('two configs keep a line each, tagged with their absolute paths; installing again changes nothing', () => {
    const cron = new FakeCron(OTHER);
    const production = projectWith();
    const practice = projectWith({ schedule: '*/5 * * * *' });
    const first = cron.run('--config', production.configFile);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.result.action, 'installed');
    assert.equal(cron.run('--config', practice.configFile).result.action, 'installed');
    const lines = cron.ours();
    assert.equal(lines.length, 2);
    assert.ok(lines[0].endsWith(`config=${production.configFile}`));
    assert.ok(lines[1].endsWith(`config=${practice.configFile}`));
    assert.ok(cron.text()?.startsWith(OTHER), 'the other lines are kept, first');

    const before = cron.text();
    const writes = cron.calls().filter((call) => call === '-').length;
    const again = cron.run('--config', production.configFile);
    assert.equal(again.result.action, 'unchanged');
    assert.equal(cron.text(), before);
    assert.equal(cron.calls().filter((call) => call === '-').length, writes, 'an unchanged table is not rewritten');

    const listed = cron.run('--list').result.lines as { config: string; schedule: string }[];
    assert.deepEqual(
      listed.map((l) => [l.config, l.schedule]),
      [
        [production.configFile, '*/10 * * * *'],
        [practice.configFile, '*/5 * * * *'],
      ],
    );
  });

  test('the schedule comes from automation.schedule; --schedule overrides it; a change replaces the line', () => {
    const cron = new FakeCron();
    const project = projectWith({ schedule: '*/15 * * * *' });
    const fromConfig = cron.run('--config', project.configFile);
    assert.equal(fromConfig.result.schedule, '*/15 * * * *');
    assert.match(cron.ours()[0], /^\*\/15 \* \* \* \* /);
    const overridden = cron.run('--config', project.configFile, '--schedule', '0 * * * *');
    assert.equal(overridden.result.action, 'updated');
    assert.deepEqual(
      cron.ours().map((line) => line.split(' cd ')[0]),
      ['0 * * * *'],
    );
  });

  test("--remove takes out that config's line only, then the crontab once nothing is left", () => {
    const cron = new FakeCron();
    const a = projectWith();
    const b = projectWith();
    cron.run('--config', a.configFile);
    cron.run('--config', b.configFile);
    const removed = cron.run('--config', a.configFile, '--remove');
    assert.equal(removed.status, 0, removed.stderr);
    assert.deepEqual(removed.result, { action: 'removed', config: a.configFile, crontab_removed: false });
    assert.equal(cron.ours().length, 1);
    assert.ok(cron.ours()[0].endsWith(`config=${b.configFile}`));

    assert.equal(cron.run('--config', b.configFile, '--remove').result.crontab_removed, true);
    assert.equal(cron.text(), null, 'crontab -r, not an empty table');
    assert.equal(cron.calls().at(-1), '-r');
    const absent = cron.run('--config', b.configFile, '--remove');
    assert.equal(absent.status, 0);
    assert.equal(absent.result.action, 'absent');
  });

  describe('an invalid config or schedule exits 2 and leaves the crontab untouched', () => {
    const cases: { name: string; config: (project: TempProject) => string; args?: string[]; message: RegExp }[] = [
      { name: 'a missing config file', config: (p) => path.join(p.root, 'nope.json'), message: /config file not found/ },
      {
        name: 'a config that is not JSON',
        config: (p) => (fs.writeFileSync(p.configFile, '{"input_folder_path": '), p.configFile),
        message: /is not valid JSON/,
      },
      {
        name: 'a config with an unknown key',
        config: (p) => (fs.writeFileSync(p.configFile, JSON.stringify({ ...readJson(p.configFile), colour: 'blue' })), p.configFile),
        message: /unknown key\(s\) "colour"/,
      },
      {
        name: 'a config whose input folder is missing',
        config: (p) => (fs.rmSync(p.input, { recursive: true }), p.configFile),
        message: /input_folder_path: folder not found/,
      },
      {
        name: 'a config with a bad automation.schedule',
        config: (p) => (
          fs.writeFileSync(p.configFile, JSON.stringify({ ...readJson(p.configFile), automation: { schedule: 'hourly' } })),
          p.configFile
        ),
        message: /automation\.schedule in .*: "hourly" is not a cron schedule/,
      },
      {
        name: 'a bad --schedule',
        config: (p) => p.configFile,
        args: ['--schedule', '*/10 * * *'],
        message: /--schedule: "\*\/10 \* \* \*" is not/,
      },
    ];
    for (const { name, config, args = [], message } of cases) {
      test(name, () => {
        const cron = new FakeCron(OTHER);
        const result = cron.run('--config', config(makeProject()), ...args);
        assert.equal(result.status, 2, result.stderr);
        assert.match(result.result.error, message);
        assert.equal(result.result.exit_code, 2);
        assert.match((JSON.parse(result.stderr) as { msg: string }).msg, message, 'one JSON log line on stderr');
        assert.equal(cron.text(), OTHER);
        assert.deepEqual(cron.calls(), [], 'crontab was not even read');
      });
    }
  });

  test('a crontab that cannot be read is not overwritten', () => {
    const cron = new FakeCron(OTHER);
    fs.writeFileSync(path.join(cron.folder, 'bin', 'crontab'), '#!/bin/sh\necho "crontab: permission denied" >&2\nexit 1\n', {
      mode: 0o755,
    });
    const result = cron.run('--config', makeProject().configFile);
    assert.equal(result.status, 1);
    assert.match(result.result.error, /crontab -l failed .*permission denied; nothing was changed/);
    assert.equal(cron.text(), OTHER);
  });

  test('the installed line, run as cron runs it, appends JSON lines to its log', () => {
    const cron = new FakeCron();
    const project = projectWith({ settle_seconds: 0 });
    const installed = cron.run('--config', project.configFile).result as { line: string; log: string };
    assert.equal(installed.log, path.join(project.root, 'logs', 'fullprocess-config.log'));
    const command = installed.line.split(' ').slice(5).join(' ');
    // cron's environment: sh, a bare PATH, stdout and stderr not a terminal.
    for (let tick = 0; tick < 2; tick++) {
      const ran = spawnSync('/bin/sh', ['-c', command], { env: { PATH: '/usr/bin:/bin', HOME: project.root, SHELL: '/bin/sh' } });
      assert.equal(ran.status, 0, String(ran.stderr));
    }
    const lines = fs.readFileSync(installed.log, 'utf8').trimEnd().split('\n');
    const entries = lines.map((line, index) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        assert.fail(`log line ${index + 1} is not JSON: ${line}`);
      }
    });
    const results = entries.filter((entry) => 'outcome' in entry).map((entry) => entry.outcome);
    assert.deepEqual(results, ['bootstrapped', 'no-new-data']);
    assert.ok(
      entries.some((entry) => entry.level === 'info' && typeof entry.msg === 'string'),
      'the logs are there too',
    );
  });
});

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
}
