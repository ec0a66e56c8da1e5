/** RowSet: behaves as a Set of strings, including hash collisions, wide characters and growth. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineBatch, RowSet } from '../src/lib/data/row-set.js';

test('agrees with Set<string> on a mixed stream with many duplicates', () => {
  const ours = new RowSet(4);
  const reference = new Set<string>();
  const keys = ['', 'a', 'ü,1', '東京,2', 'a,1,2', 'a,1,2 ', 'zürich'];
  for (let i = 0; i < 50_000; i++) keys.push(`k${i % 7919},${(i * 31) % 1000}${i % 3 === 0 ? 'é' : ''}${i % 11 === 0 ? '語' : ''}`);
  for (const key of keys) assert.equal(ours.add(key), !reference.has(key) && reference.add(key) !== undefined, key);
  assert.equal(ours.size, reference.size);
});

test('two rows with the same 32-bit hash are both kept', () => {
  // These two rows collide under FNV-1a (found by a birthday search), so the set must compare the keys themselves.
  const [first, second] = ['abcd,129497,479,2,1', 'abcd,134815,705,82,1'];
  const set = new RowSet(4);
  assert.equal(set.add(first), true);
  assert.equal(set.add(second), true);
  assert.equal(set.add(first), false);
  assert.equal(set.add(second), false);
  assert.equal(set.size, 2);
});

test('growth keeps every key findable', () => {
  const set = new RowSet(1);
  for (let i = 0; i < 5000; i++) assert.equal(set.add(String(i)), true);
  for (let i = 0; i < 5000; i++) assert.equal(set.add(String(i)), false);
  assert.equal(set.size, 5000);
});

/** Lines of `text` as a batch (positions of each line without its line break). */
function batchOf(text: string, capacity = 4096): { bytes: Buffer; batch: LineBatch; lines: string[] } {
  const bytes = Buffer.from(text);
  const batch = new LineBatch(capacity);
  const lines: string[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(10, start);
    if (end === -1) end = bytes.length;
    batch.push(start, end);
    lines.push(bytes.toString('utf8', start, end));
    start = end + 1;
  }
  return { bytes, batch, lines };
}

test('batches agree with Set<string>: repeats inside a batch, across batches and with keys added one by one', () => {
  const ours = new RowSet(4);
  const reference = new Set<string>();
  const rows = Array.from({ length: 3000 }, (_, i) => `k${(i * 7) % 1000},${i % 5}${i % 9 === 0 ? ',é' : ''}`);
  for (let from = 0; from < rows.length; from += 250) {
    const { bytes, batch, lines } = batchOf(rows.slice(from, from + 250).join('\n') + '\n');
    const expected = lines.map((line) => !reference.has(line) && reference.add(line) !== undefined);
    assert.equal(ours.addBatch(bytes, batch), expected.filter(Boolean).length);
    assert.deepEqual([...batch.fresh.subarray(0, batch.count)], expected.map(Number));
    // The same keys as strings are known, and a new string key is then known to a batch.
    assert.equal(ours.add(lines[0]), false);
    const single = `single,${from}`;
    assert.equal(ours.add(single), true);
    reference.add(single);
  }
  const { bytes, batch } = batchOf('single,0\nsingle,250\nnever,seen\n');
  assert.equal(ours.addBatch(bytes, batch), 1);
  assert.deepEqual([...batch.fresh.subarray(0, 3)], [0, 0, 1]);
  assert.equal(ours.size, reference.size + 1);
});

test('a key that is a prefix of another is not its duplicate', () => {
  const set = new RowSet(4);
  const { bytes, batch } = batchOf('ab,1\nab,12\nab,1\nab\n');
  assert.equal(set.addBatch(bytes, batch), 3);
  assert.deepEqual([...batch.fresh.subarray(0, 4)], [1, 1, 0, 1]);
});

test('repeats take no arena room, and the arena grows past its first size with every key still found', () => {
  const set = new RowSet(4, 16);
  const distinct = Array.from({ length: 5000 }, (_, i) => `row-${i},${i % 7}`);
  const first = batchOf(distinct.join('\n') + '\n', 8192);
  assert.equal(set.addBatch(first.bytes, first.batch), 5000);
  const held = set.bytesHeld;
  assert.ok(held >= first.bytes.length - 1 && held <= first.bytes.length, `${held} bytes held for ${first.bytes.length}`);
  // Ten more copies, shuffled with new rows in between: only the new rows take room.
  for (let copy = 0; copy < 10; copy++) {
    const rows = distinct.flatMap((row, i) => (i % 1000 === 0 ? [row, `new-${copy}-${i}`] : [row]));
    const { bytes, batch } = batchOf(rows.join('\n') + '\n', 8192);
    assert.equal(set.addBatch(bytes, batch), 5);
  }
  assert.ok(set.bytesHeld < held + 10 * 5 * 20, `${set.bytesHeld} bytes held`);
  for (const row of [...distinct, 'new-9-4000']) assert.equal(set.add(row), false, row);
  assert.equal(set.add('row-5000,2'), true);
  assert.equal(set.size, 5000 + 50 + 1);
});
