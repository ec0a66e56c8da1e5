/**
 * The crontab text install-cron writes: one line per config file, tagged with
 * its absolute path, replaced in place, removed alone; other lines are kept.
 * The command itself, against a crontab stand-in, is in install-cron.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkSchedule, cronLine, installedLines, updateCrontab } from '../scripts/install-cron.js';

const PRODUCTION = '/srv/app/config.production.json';
const PRACTICE = '/srv/app/config.json';
const line = (configFile: string, schedule = '*/10 * * * *'): string =>
  cronLine({ schedule, configFile, logFile: '/srv/app/logs/fullprocess.log', projectRoot: '/srv/app', node: '/usr/bin/node' });
const OTHER = 'MAILTO=ops@example.com\n0 3 * * * /usr/bin/backup\n';

describe('the crontab line', () => {
  test('runs fullprocess with absolute paths, appends to the log and is tagged with the config', () => {
    assert.equal(
      line(PRODUCTION),
      "*/10 * * * * cd '/srv/app' && '/usr/bin/node' '/srv/app/dist/src/fullprocess.js' --config '/srv/app/config.production.json'" +
        " >> '/srv/app/logs/fullprocess.log' 2>&1 # dynamic-risk-assessment fullprocess config=/srv/app/config.production.json",
    );
  });

  test('quotes a path holding a quote and refuses one cron cannot carry', () => {
    assert.match(line("/srv/o'neil/c.json"), /--config '\/srv\/o'\\''neil\/c\.json'/);
    assert.deepEqual(
      installedLines(line("/srv/o'neil/c.json")).map((l) => l.config),
      ["/srv/o'neil/c.json"],
    );
    for (const bad of ['/srv/100%/c.json', '/srv/a\nb/c.json']) assert.throws(() => line(bad), /"%" or a line break/);
  });
});

describe('updating the crontab', () => {
  test('installing twice leaves one line; removing it keeps the other entries', () => {
    const once = updateCrontab(OTHER, PRODUCTION, line(PRODUCTION));
    assert.equal(updateCrontab(once, PRODUCTION, line(PRODUCTION)), once);
    assert.equal(installedLines(once).length, 1);
    assert.equal(updateCrontab(once, PRODUCTION, null), OTHER);
    assert.equal(updateCrontab(line(PRODUCTION) + '\n', PRODUCTION, null), '');
  });

  test('two configs keep a line each; a new schedule replaces only its own line, in place', () => {
    const both = updateCrontab(updateCrontab(OTHER, PRODUCTION, line(PRODUCTION)), PRACTICE, line(PRACTICE));
    assert.deepEqual(
      installedLines(both).map((l) => l.config),
      [PRODUCTION, PRACTICE],
    );
    const changed = updateCrontab(both, PRODUCTION, line(PRODUCTION, '*/5 * * * *'));
    assert.deepEqual(
      installedLines(changed).map((l) => [l.config, l.schedule]),
      [
        [PRODUCTION, '*/5 * * * *'],
        [PRACTICE, '*/10 * * * *'],
      ],
    );
    assert.ok(changed.startsWith(OTHER));
    assert.equal(updateCrontab(changed, PRODUCTION, null), updateCrontab(OTHER, PRACTICE, line(PRACTICE)));
  });

  test('a line written before lines were tagged counts as its config', () => {
    const legacy =
      "*/10 * * * * cd '/srv/app' && '/usr/bin/node' '/srv/app/dist/src/fullprocess.js' --config '/srv/app/config.production.json' >> '/srv/app/logs/fullprocess.log' 2>&1 # dynamic-risk-assessment fullprocess\n";
    assert.deepEqual(
      installedLines(legacy).map((l) => l.config),
      [PRODUCTION],
    );
    assert.equal(updateCrontab(legacy, PRODUCTION, line(PRODUCTION)), line(PRODUCTION) + '\n');
  });
});

describe('schedules', () => {
  for (const good of ['*/10 * * * *', '0 3 * * 1-5', '5,35 * * * *', '@hourly', '0  *  * * *'])
    test(`accepts "${good}"`, () => assert.equal(checkSchedule(good, '--schedule'), good.replace(/\s+/g, ' ')));
  for (const bad of ['', '* * * *', '*/10 * * * * *', '61 * * * *', 'every ten minutes', '* * * * * ; rm -rf /', '@sometimes'])
    test(`refuses ${JSON.stringify(bad)}, naming where it came from`, () =>
      assert.throws(
        () => checkSchedule(bad, 'automation.schedule in /c.json'),
        /^UserError: automation\.schedule in \/c\.json: .* is not a cron schedule/,
      ));
});
