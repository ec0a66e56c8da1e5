/**
 * Descriptive statistics (src/lib/model/stats.ts), one test per function, with
 * the examples of their doc comments. Expected values come from pandas 1.5
 * (Debian python3-pandas); each is written under the Python line that made it.
 */
import assert from 'node:assert/strict';
import { describe as suite, test } from 'node:test';
import { countPresent, describe, max, mean, median, min, presentValues, quantile, standardDeviation } from '../src/lib/model/stats.js';
import { assertClose } from './helpers.js';

const TOLERANCE = 1e-12;
// s = pd.Series([2.5, np.nan, 1, 4, 4, 10, -3])
const SAMPLE = [2.5, NaN, 1, 4, 4, 10, -3];

suite('stats', () => {
  test('presentValues keeps the values that are not NaN, in order', () => {
    assert.deepEqual([...presentValues(SAMPLE)], [2.5, 1, 4, 4, 10, -3]);
    assert.deepEqual([...presentValues([NaN, NaN])], []);
    assert.ok(presentValues([1, 2]) instanceof Float64Array);
  });

  test('countPresent counts the values that are not NaN', () => {
    // s.count() -> 6
    assert.equal(countPresent(SAMPLE), 6);
    assert.equal(countPresent([]), 0);
    assert.equal(countPresent(new Float64Array([NaN, 0, Infinity])), 2);
  });

  test('mean', () => {
    assert.equal(mean([1, 2, 6]), 3); // the doc comment's example; pd.Series([1, 2, 6]).mean() -> 3.0
    // s.mean() -> 3.0833333333333335
    assertClose(mean(SAMPLE), 3.0833333333333335, TOLERANCE, 'mean');
    // pd.Series([np.nan]).mean() -> nan
    assert.ok(Number.isNaN(mean([NaN])));
    assert.ok(Number.isNaN(mean([])));
  });

  test('standardDeviation: ddof 1 as pandas std(), ddof 0 as numpy and StandardScaler', () => {
    // s.std() -> 4.271026418399524
    assertClose(standardDeviation(SAMPLE, 1), 4.271026418399524, TOLERANCE, 'std ddof=1');
    // s.std(ddof=0) -> 3.8988958550965287
    assertClose(standardDeviation(SAMPLE, 0), 3.8988958550965287, TOLERANCE, 'std ddof=0');
    // pd.Series([5.0]).std() -> nan: fewer than ddof + 1 values
    assert.ok(Number.isNaN(standardDeviation([5], 1)));
    assert.equal(standardDeviation([5], 0), 0);
    assert.ok(Number.isNaN(standardDeviation([], 0)));
    // Two passes: a large offset does not swamp a small spread.
    assertClose(standardDeviation([1e9 + 1, 1e9 + 2, 1e9 + 3], 1), 1, 1e-9, 'std with an offset');
  });

  test('min and max skip NaN and keep infinities (as pandas)', () => {
    // s.min() -> -3.0, s.max() -> 10.0
    assert.equal(min(SAMPLE), -3);
    assert.equal(max(SAMPLE), 10);
    assert.equal(min([3, NaN, 1]), 1); // the doc comments' examples
    assert.equal(max([3, NaN, 1]), 3);
    assert.ok(Number.isNaN(min([])) && Number.isNaN(max([NaN])));
    // pd.Series([np.inf]).min() -> inf; pd.Series([-np.inf]).max() -> -inf; pd.Series([np.inf, 1]).min() -> 1.0
    assert.equal(min([Infinity]), Infinity);
    assert.equal(max([-Infinity]), -Infinity);
    assert.equal(min([Infinity, NaN, 1]), 1);
  });

  test('quantile interpolates linearly between closest ranks', () => {
    assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5); // the doc comment's example; pd.Series([1, 2, 3, 4]).quantile(0.5) -> 2.5
    // [s.quantile(q) for q in [0, 0.1, 0.25, 0.5, 0.9, 1]] -> [-3.0, -1.0, 1.375, 3.25, 7.0, 10.0]
    const table: [number, number][] = [
      [0, -3],
      [0.1, -1],
      [0.25, 1.375],
      [0.5, 3.25],
      [0.9, 7],
      [1, 10],
    ];
    for (const [q, wanted] of table) assertClose(quantile(SAMPLE, q), wanted, TOLERANCE, `quantile ${q}`);
    assert.ok(Number.isNaN(quantile([NaN], 0.5)));
    const input = [3, 1, 2];
    quantile(input, 0.5);
    assert.deepEqual(input, [3, 1, 2], 'the input is left as it was');
  });

  test('quantile refuses a q outside [0, 1], naming the function', () => {
    for (const q of [-0.1, 1.5, NaN])
      assert.throws(() => quantile([1, 2], q), { name: 'RangeError', message: /^quantile: q must be in \[0, 1\]/ });
  });

  test('median', () => {
    assert.equal(median([3, 1, 2]), 2); // the doc comment's example; pd.Series([3, 1, 2]).median() -> 2.0
    assert.equal(median([4, 1, 3, 2]), 2.5);
    // s.median() -> 3.25
    assertClose(median(SAMPLE), 3.25, TOLERANCE, 'median');
  });

  test('describe: pandas describe() figures, null where undefined', () => {
    // s.describe() -> count 6, mean 3.0833333333333335, std 4.271026418399524, min -3.0, 50% 3.25, max 10.0
    const summary = describe(SAMPLE);
    assert.equal(summary.count, 6);
    assertClose(summary.mean!, 3.0833333333333335, TOLERANCE, 'describe mean');
    assertClose(summary.std!, 4.271026418399524, TOLERANCE, 'describe std');
    assertClose(summary.median!, 3.25, TOLERANCE, 'describe median');
    assert.equal(summary.min, -3);
    assert.equal(summary.max, 10);
    assert.deepEqual(describe([NaN]), { mean: null, median: null, std: null, count: 0, min: null, max: null });
    assert.deepEqual(describe([7]), { mean: 7, median: 7, std: null, count: 1, min: 7, max: 7 });
  });
});
