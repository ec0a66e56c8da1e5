/** RowSet: behaves as a Set of strings, including hash collisions, wide characters and growth. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RowSet } from '../src/lib/row-set.js';

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
