/**
 * Drift rules (step 3 of a tick): the model-drift rules raw,
 * parametric and nonparametric with hand-computed thresholds; the two-sample
 * KS test against scipy's `ks_2samp`; PSI on a hand-computed example; and the
 * original project's reference data run through a tick under each rule.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runFullprocess } from '../src/fullprocess.js';
import { runIngestion } from '../src/ingestion.js';
import { readDataset } from '../src/lib/data/dataset.js';
import {
  decideModelDrift,
  ksPValue,
  ksTwoSample,
  measureDataDrift,
  populationStabilityIndex,
  profileColumn,
  type DriftRule,
} from '../src/lib/model/drift.js';
import { Random, drawClient } from '../src/lib/data/generator.js';
import { REFERENCE_DATA, REPO, FIXTURES, assertClose, expected, makeProject } from './helpers.js';
import type { NumericDrift } from '../src/lib/store/run-history.js';

const FEATURES = ['lastmonth_activity', 'lastyear_activity', 'number_of_employees'];
/** Settings that keep a tick off the network and off any API running on this machine. */
const QUIET = { api: { url: 'http://127.0.0.1:1' }, diagnostics: { outdated_timeout_ms: 100 } };

/** Relative closeness, for p-values that span hundreds of orders of magnitude. */
function assertRelative(actual: number, wanted: number, tolerance: number, what: string): void {
  if (!(Math.abs(actual - wanted) <= tolerance * Math.abs(wanted))) {
    throw new Error(
      `${what}: ${actual} differs from ${wanted} by a relative ${Math.abs(actual - wanted) / Math.abs(wanted)} (tolerance ${tolerance})`,
    );
  }
}

// ---------------------------------------------------------------------------
// Model-drift rules
// ---------------------------------------------------------------------------

// parametric, history [0.80, 0.82, 0.78, 0.84]: mean 0.81, deviations -0.01 0.01 -0.03 0.03,
//   sample variance (0.0001 + 0.0001 + 0.0009 + 0.0009) / 3 = 0.000666..., std 0.0258199,
//   threshold 0.81 - 2 x 0.0258199 = 0.7583602.
// nonparametric, history [0.9, 0.6, 0.8, 0.7] (sorted 0.6 0.7 0.8 0.9, numpy linear quantiles):
//   Q1 at rank 0.25 x 3 = 0.75 -> 0.675, Q3 at rank 2.25 -> 0.825, IQR 0.15,
//   threshold 0.675 - 1.5 x 0.15 = 0.45.
// nonparametric, history [0.70, 0.80, 0.82, 0.84, 0.90]: Q1 (rank 1) 0.80, Q3 (rank 3) 0.84,
//   threshold 0.80 - 1.5 x 0.04 = 0.74.
const RULE_CASES: {
  rule: DriftRule;
  newF1: number;
  deployedF1: number;
  history: number[];
  threshold: number;
  drifted: boolean;
  fallback?: boolean;
}[] = [
  { rule: 'raw', newF1: 0.7, deployedF1: 0.75, history: [0.75], threshold: 0.75, drifted: true },
  { rule: 'raw', newF1: 0.75, deployedF1: 0.75, history: [0.75], threshold: 0.75, drifted: false },
  { rule: 'raw', newF1: 0.9, deployedF1: 0.75, history: [0.5, 0.6, 0.75], threshold: 0.75, drifted: false },
  { rule: 'parametric', newF1: 0.75, deployedF1: 0.84, history: [0.8, 0.82, 0.78, 0.84], threshold: 0.7583602, drifted: true },
  { rule: 'parametric', newF1: 0.76, deployedF1: 0.84, history: [0.8, 0.82, 0.78, 0.84], threshold: 0.7583602, drifted: false },
  { rule: 'parametric', newF1: 0.79, deployedF1: 0.8, history: [0.8, 0.8], threshold: 0.8, drifted: true },
  { rule: 'nonparametric', newF1: 0.44, deployedF1: 0.9, history: [0.9, 0.6, 0.8, 0.7], threshold: 0.45, drifted: true },
  { rule: 'nonparametric', newF1: 0.46, deployedF1: 0.9, history: [0.9, 0.6, 0.8, 0.7], threshold: 0.45, drifted: false },
  { rule: 'nonparametric', newF1: 0.73, deployedF1: 0.9, history: [0.7, 0.8, 0.82, 0.84, 0.9], threshold: 0.74, drifted: true },
  { rule: 'nonparametric', newF1: 0.75, deployedF1: 0.9, history: [0.7, 0.8, 0.82, 0.84, 0.9], threshold: 0.74, drifted: false },
  // Fewer than two history scores: the statistical rules fall back to raw and say so.
  { rule: 'parametric', newF1: 0.7, deployedF1: 0.75, history: [0.75], threshold: 0.75, drifted: true, fallback: true },
  { rule: 'parametric', newF1: 0.8, deployedF1: 0.75, history: [], threshold: 0.75, drifted: false, fallback: true },
  { rule: 'nonparametric', newF1: 0.7, deployedF1: 0.75, history: [0.75], threshold: 0.75, drifted: true, fallback: true },
];

test('model-drift rules: thresholds and decisions as computed by hand', () => {
  for (const c of RULE_CASES) {
    const label = `${c.rule} new ${c.newF1} history [${c.history.join(', ')}]`;
    const decision = decideModelDrift(c.rule, c.newF1, c.deployedF1, c.history);
    assert.equal(decision.rule, c.rule, label);
    assert.equal(decision.new_f1, c.newF1, label);
    assert.equal(decision.deployed_f1, c.deployedF1, label);
    assert.deepEqual(decision.history, c.history, label);
    assertClose(decision.threshold, c.threshold, 1e-7, `${label}: threshold`);
    assert.equal(decision.drifted, c.drifted, `${label}: drifted`);
    assert.equal(decision.drifted, decision.new_f1 < decision.threshold, `${label}: drifted means new < threshold`);
    assert.equal(/raw rule applied/.test(decision.explanation), c.fallback === true, `${label}: explanation "${decision.explanation}"`);
    assert.match(decision.explanation, new RegExp(c.newF1.toFixed(4)), label);
  }
});

// ---------------------------------------------------------------------------
// Two-sample KS
// ---------------------------------------------------------------------------

test('KS on small hand-checkable samples matches scipy ks_2samp (exact p-values)', () => {
  // [1,2,3] vs [4,5,6]: D = 1; only the 2 extreme of the C(6,3) = 20 paths leave the band: p = 0.1.
  const cases: [number[], number[], number, number][] = [
    [[1, 2, 3], [4, 5, 6], 1, 0.1],
    [[1, 2, 3, 4, 5], [3, 4, 5, 6, 7, 8, 9], 0.5714285714285714, 0.23737373737373738],
    [[0.1, 0.4, 0.7, 1.5, 2.2, 3.1, 3.3, 4.0], [1.1, 2.5, 2.6, 3.9, 4.4, 5.0, 5.2, 6.1, 6.6, 7.3], 0.6, 0.04986516751222633],
    [[1, 1, 2, 2, 3], [2, 3, 3, 4, 4, 5], 0.6333333333333333, 0.17748917748917747],
  ];
  for (const [a, b, statistic, pvalue] of cases) {
    const result = ksTwoSample(a, b);
    assertClose(result.statistic, statistic, 1e-12, `D of ${a.join(',')} vs ${b.join(',')}`);
    assertRelative(result.pvalue, pvalue, 1e-9, `p of ${a.join(',')} vs ${b.join(',')}`);
    assert.deepEqual(ksTwoSample(b, a), result, 'symmetric');
  }
  // Missing values are skipped; an empty sample gives NaN.
  assert.deepEqual(ksTwoSample([1, NaN, 2, 3], [4, 5, NaN, 6]), ksTwoSample([1, 2, 3], [4, 5, 6]));
  assert.ok(Number.isNaN(ksTwoSample([], [1, 2]).statistic));
  assert.ok(Number.isNaN(ksTwoSample([NaN], [1, 2]).pvalue));
  assert.equal(ksTwoSample([1, 2, 3], [1, 2, 3]).pvalue, 1);
});

/** The pandas-deduplicated practice and source feature columns of a data set (missing values kept as NaN). */
async function dedupedSamples(base: string): Promise<{ practice: Float64Array[]; source: Float64Array[] }> {
  const read = async (folder: string): Promise<Float64Array[]> => {
    const project = makeProject({ input: path.join(base, folder), testData: path.join(base, 'testdata') });
    await runIngestion(project.config);
    const data = readDataset(path.join(project.config.output_folder_path, 'finaldata.csv'), project.config.schema);
    return FEATURES.map((feature) => data.columns[data.features.indexOf(feature)]);
  };
  return { practice: await read('practicedata'), source: await read('sourcedata') };
}

const KS_SETS: { name: 'reference' | 'generated' | 'shipped'; base: string }[] = [
  { name: 'reference', base: REFERENCE_DATA },
  { name: 'generated', base: path.join(FIXTURES, 'generated') },
  { name: 'shipped', base: REPO },
];

for (const { name, base } of KS_SETS) {
  const skip = fs.existsSync(path.join(base, 'practicedata')) ? false : `${name} data not found at ${base}`;
  test(`KS of practice vs source data (${name}) matches scipy: statistic exactly, p-value to 1e-9 relative`, { skip }, async () => {
    const want = expected(name).ks as Record<string, { statistic: number; pvalue: number }>;
    const { practice, source } = await dedupedSamples(base);
    FEATURES.forEach((feature, f) => {
      const result = ksTwoSample(practice[f], source[f]);
      assertClose(result.statistic, want[feature].statistic, 1e-12, `${name} ${feature}: statistic`);
      // scipy's default ("auto") is the exact distribution for samples up to 10,000 values; so is ours.
      assertRelative(result.pvalue, want[feature].pvalue, 1e-9, `${name} ${feature}: p-value`);
      assert.equal(result.pvalue < 0.05, want[feature].pvalue < 0.05);
    });
  });
}

test('KS p-value for samples over 10,000 values (asymptotic) agrees with scipy to 2%', () => {
  // Samples: lastyear_activity of generated clients, 12,000 from the practice world (seed 11)
  // vs 15,000 from a world shifted by `drift` (seed 12). scipy 1.17 ks_2samp (method "auto"
  // switches to "asymp" here) on exactly these samples gave:
  const scipy: [number, number, number][] = [
    [0, 0.008116666666666661, 0.7687960431651997],
    [0.02, 0.011749999999999927, 0.313638635876046],
    [0.04, 0.01924999999999999, 0.014108045335824273],
    [0.06, 0.027650000000000063, 7.330908154943947e-5],
  ];
  const column = (seed: number, n: number, drift: number): number[] => {
    const random = new Random(seed);
    return Array.from({ length: n }, () => drawClient(random, { drift, conceptDrift: 0 }).lastyear_activity);
  };
  const a = column(11, 12_000, 0);
  for (const [drift, statistic, pvalue] of scipy) {
    const result = ksTwoSample(a, column(12, 15_000, drift));
    assertClose(result.statistic, statistic, 1e-12, `drift ${drift}: statistic`);
    assertRelative(result.pvalue, pvalue, 0.02, `drift ${drift}: p-value`);
  }
});

test('ksPValue: exact below 10,000 values, asymptotic above, NaN for nonsense', () => {
  assertRelative(ksPValue(1, 3, 3), 0.1, 1e-12, 'D = 1 for 3 vs 3');
  // Exact and asymptotic meet where both are valid (n = m = 10,000 vs 10,001).
  assertRelative(ksPValue(0.02, 10_000, 10_000), ksPValue(0.02, 10_001, 10_001), 0.02, 'exact vs asymptotic at the switch');
  assert.ok(Number.isNaN(ksPValue(NaN, 5, 5)));
  assert.ok(Number.isNaN(ksPValue(0.5, 0, 5)));
  // The largest exact case gives a finite, tiny p-value (how long it takes is for npm run bench, not a test).
  const p = ksPValue(0.5, 10_000, 9_999);
  assert.ok(p >= 0 && p < 1e-40, `p = ${p}`);
});

// ---------------------------------------------------------------------------
// PSI and the training profile
// ---------------------------------------------------------------------------

test('PSI on a hand-computed example, with empty bins floored at 1e-4', () => {
  const profile = profileColumn([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.deepEqual(profile, { count: 10, quantiles: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] }, 'a small column is kept exactly');
  // Two bins cut at the training median 5.5: training shares 0.5 / 0.5, actual 4 of 10 below -> 0.4 / 0.6.
  const shifted = populationStabilityIndex(profile, [1, 2, 3, 4, 6, 7, 8, 9, 10, 11], 2);
  assert.deepEqual(shifted.edges, [5.5]);
  assert.deepEqual(shifted.expected, [0.5, 0.5]);
  assert.deepEqual(shifted.actual, [0.4, 0.6]);
  // (0.4 - 0.5) ln(0.4 / 0.5) + (0.6 - 0.5) ln(0.6 / 0.5) = 0.1 (ln 1.25 + ln 1.2) = 0.1 ln 1.5
  assertClose(shifted.psi, 0.1 * Math.log(1.5), 1e-12, 'PSI');
  // Everything above the median: the empty bin counts as 1e-4.
  const moved = populationStabilityIndex(profile, [6, 7, 8, 9, 10], 2);
  assertClose(moved.psi, (1e-4 - 0.5) * Math.log(1e-4 / 0.5) + (1 - 0.5) * Math.log(1 / 0.5), 1e-12, 'PSI with an empty bin');
  assertClose(populationStabilityIndex(profile, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 2).psi, 0, 1e-15, 'same data');
  // Ten bins at the training deciles 1.9, 2.8, ... 9.1 (numpy linear quantiles of 1..10).
  const deciles = populationStabilityIndex(profile, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  deciles.edges.forEach((edge, k) => assertClose(edge, 1.9 + 0.9 * k, 1e-12, `edge ${k}`));
  assert.equal(deciles.psi, 0);
});

test('training profile: exact values up to 1,000, quantile summary beyond; missing values skipped', () => {
  assert.deepEqual(profileColumn([3, NaN, 1, 2]), { count: 3, quantiles: [1, 2, 3] });
  const big = Float64Array.from({ length: 5000 }, (_, i) => (i * 7919) % 5000);
  const profile = profileColumn(big);
  assert.equal(profile.count, 5000);
  assert.equal(profile.quantiles.length, 1000);
  assert.ok(
    profile.quantiles.every((q, i) => i === 0 || q >= profile.quantiles[i - 1]),
    'ascending',
  );
  // Quantile i sits at probability (i + 0.5) / 1000 of 0..4999.
  assertClose(profile.quantiles[0], 0.0005 * 4999, 1e-9, 'first quantile');
  assertClose(profile.quantiles[999], 0.9995 * 4999, 1e-9, 'last quantile');
  // KS against the summary, with the true sizes, is close to KS against the full sample.
  const other = Float64Array.from(big, (v) => v + 250);
  const full = ksTwoSample(big, other);
  const summary = ksTwoSample(profile.quantiles, other, { a: profile.count, b: other.length });
  assertClose(summary.statistic, full.statistic, 1e-3, 'KS statistic from the summary');
});

test('data drift of a feature needs both PSI over the threshold and a KS p-value under alpha', () => {
  const settings = { psi_bins: 10, psi_threshold: 0.2, ks_alpha: 0.05 };
  const train = Float64Array.from({ length: 400 }, (_, i) => i);
  const profiles = { same: profileColumn(train), moved: profileColumn(train) };
  const drift = measureDataDrift(
    profiles,
    { same: Float64Array.from(train, (v) => v + 0.5), moved: Float64Array.from(train, (v) => v + 200) },
    settings,
  );
  assert.equal(drift.same.drifted, false);
  assert.ok(drift.same.psi < 0.2 && drift.same.ks_pvalue > 0.05, JSON.stringify(drift.same));
  assert.equal(drift.moved.drifted, true);
  assert.ok(drift.moved.psi >= 0.2 && drift.moved.ks_pvalue < 0.05);
  assertClose(drift.moved.ks_statistic, 0.5, 1e-12, 'half the mass moved past the other sample');
  assert.deepEqual(
    Object.keys(measureDataDrift(profiles, { same: train }, settings)),
    ['same'],
    'a feature without new values is left out',
  );
});

// ---------------------------------------------------------------------------
// The original project's reference data through a tick under each rule
// ---------------------------------------------------------------------------

test(
  'reference data: practice model deployed, sourcedata arrives; each rule decides as its numbers say',
  { skip: fs.existsSync(REFERENCE_DATA) ? false : `reference data not found at ${REFERENCE_DATA}` },
  async () => {
    const reference = expected('reference');
    const wantDeployed = reference.practice.models.standardized.test.metrics.f1 as number;
    const wantNew = reference.practice.standardized_on_source.metrics.f1 as number;
    for (const rule of ['raw', 'parametric', 'nonparametric'] as const) {
      const project = makeProject({
        input: path.join(REFERENCE_DATA, 'practicedata'),
        testData: path.join(REFERENCE_DATA, 'testdata'),
        extra: { automation: { settle_seconds: 0 }, drift: { rule }, ...QUIET },
      });
      const boot = await runFullprocess(project.config);
      assert.equal(boot.outcome, 'bootstrapped', `${rule}: ${boot.error ?? boot.decision}`);
      assertClose(boot.scores.candidate_f1!, wantDeployed, 1e-12, 'practice model F1 on the test data (sklearn)');
      for (const name of ['dataset3.csv', 'dataset4.csv'])
        fs.copyFileSync(path.join(REFERENCE_DATA, 'sourcedata', name), path.join(project.input, name));
      const tick = await runFullprocess(project.config);
      assert.ok(tick.model_drift && tick.data_drift, `${rule}: ${tick.outcome} (${tick.error ?? tick.decision})`);
      const drift = tick.model_drift;
      console.log(
        `reference data, rule ${rule}: deployed F1 ${drift.deployed_f1.toFixed(4)}, new-data F1 ${drift.new_f1.toFixed(4)}, history [${drift.history.map((h) => h.toFixed(4)).join(', ')}], ` +
          `threshold ${drift.threshold.toFixed(4)} -> ${tick.outcome} (${drift.explanation})`,
      );
      assert.equal(drift.rule, rule);
      assertClose(drift.new_f1, wantNew, 1e-12, 'practice model F1 on sourcedata (sklearn)');
      assertClose(drift.deployed_f1, wantDeployed, 1e-12, 'deployed F1');
      // One deployed version and no earlier check: the statistical rules have one history score and fall back to raw.
      assert.deepEqual(drift.history, [drift.deployed_f1]);
      assert.equal(drift.threshold, drift.deployed_f1);
      assert.equal(drift.drifted, drift.new_f1 < drift.threshold);
      assert.equal(tick.outcome, drift.drifted ? 'redeployed' : 'no-drift', tick.error ?? tick.decision);
      assert.equal(tick.outcome, 'no-drift', 'F1 0.6429 on sourcedata is not below 0.3333');
      // Data drift: the training profile of 26 rows is kept exactly, so KS equals scipy on the same samples.
      for (const feature of FEATURES) {
        const d = tick.data_drift[feature] as NumericDrift;
        assertClose(d.ks_statistic, reference.ks[feature].statistic, 1e-12, `${feature}: KS statistic`);
        assertRelative(d.ks_pvalue, reference.ks[feature].pvalue, 1e-9, `${feature}: KS p-value`);
        assert.ok(Number.isFinite(d.psi) && d.psi > 0);
      }
    }
  },
);
