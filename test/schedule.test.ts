/** Scheduling: the crontab line is installed idempotently and removed cleanly; other lines are kept. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cronLine, updateCrontab } from '../scripts/install-cron.js';

test('installing twice leaves one line; removing keeps the other entries', () => {
  const line = cronLine('*/10 * * * *', '/srv/app/config.production.json', '/srv/app/logs/fullprocess.log');
  assert.match(
    line,
    /^\*\/10 \* \* \* \* cd '.*' && '.*node' '.*dist\/src\/fullprocess\.js' --config '\/srv\/app\/config\.production\.json' >> '\/srv\/app\/logs\/fullprocess\.log' 2>&1 # dynamic-risk-assessment fullprocess$/,
  );
  const other = 'MAILTO=ops@example.com\n0 3 * * * /usr/bin/backup\n';
  const once = updateCrontab(other, line);
  const twice = updateCrontab(once, line);
  assert.equal(twice, once);
  assert.equal(once.split('\n').filter((l) => l.includes('dynamic-risk-assessment')).length, 1);
  assert.equal(updateCrontab(twice, null), other);
  assert.equal(updateCrontab('', null), '');
});

test('a changed schedule replaces the old line', () => {
  const first = updateCrontab('', cronLine('*/10 * * * *', '/c.json', '/l.log'));
  const second = updateCrontab(first, cronLine('*/5 * * * *', '/c.json', '/l.log'));
  assert.equal(second.trim().split('\n').length, 1);
  assert.match(second, /^\*\/5 /);
});
