/**
 * Diagnostics: summary statistics and missing data equal pandas', timings run
 * in a scratch folder that touches no real output, and the dependency check
 * says `unavailable` with a reason when npm cannot answer.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runDeployment } from '../src/deployment.js';
import { runDiagnostics, timeStages } from '../src/diagnostics.js';
import { countMissing, summarizeData } from '../src/lib/diagnostics/data-summary.js';
import { runIngestion } from '../src/ingestion.js';
import { checkDependencies } from '../src/lib/diagnostics/dependencies.js';
import { runScoring } from '../src/scoring.js';
import { runTraining } from '../src/training.js';
import { FIXTURES, REFERENCE_DATA, REPO, assertClose, expected, makeProject, snapshot, tempFolder } from './helpers.js';

const SETS: [string, 'reference' | 'generated' | 'shipped', string][] = [
  ['original reference data', 'reference', path.join(REFERENCE_DATA, 'practicedata')],
  ['generated data with missing cells', 'generated', path.join(FIXTURES, 'generated', 'practicedata')],
  ['shipped practice data', 'shipped', path.join(REPO, 'practicedata')],
];

for (const [label, name, folder] of SETS) {
  test(
    `summary statistics and missing percentages equal pandas: ${label}`,
    { skip: fs.existsSync(folder) ? false : 'reference data absent' },
    async () => {
      const wanted = expected(name).practice.summary;
      const project = makeProject({ input: folder });
      await runIngestion(project.config);
      const finalData = path.join(project.config.output_folder_path, 'finaldata.csv');
      const summary = summarizeData(finalData, project.config.schema);
      const missing = countMissing(finalData);
      for (const [feature, stats] of Object.entries<Record<string, number>>(wanted)) {
        const ours = summary.columns[feature];
        for (const key of ['mean', 'median', 'std', 'min', 'max'] as const)
          assertClose(ours[key]!, stats[key], 1e-9 * Math.max(1, Math.abs(stats[key])), `${feature} ${key}`);
        assert.equal(ours.count, stats.count, `${feature} count`);
        assertClose(missing.columns[feature].percent, stats.missing_pct, 1e-9, `${feature} missing %`);
      }
    },
  );
}

test('diagnostics gives predictions of the deployed model and touches no real output while timing', async () => {
  const project = makeProject();
  await runIngestion(project.config);
  await runTraining(project.config);
  await runScoring(project.config);
  await runDeployment(project.config);
  const before = snapshot(project.root);
  const timings = await timeStages(project.config);
  assert.equal(timings.status, 'ok');
  if (timings.status === 'ok') assert.ok(timings.ingestion_seconds > 0 && timings.training_seconds > 0);
  assert.deepEqual(snapshot(project.root), before, 'timing runs wrote nothing into the project');
  const result = await runDiagnostics(project.config, { dependencies: false });
  assert.equal(result.model_version, 1);
  assert.equal(result.predictions.status, 'ok');
  if (result.predictions.status === 'ok') {
    assert.equal(result.predictions.predictions.length, 120);
    assert.ok(result.predictions.probabilities.every((p) => p >= 0 && p <= 1));
  }
  assert.ok(fs.existsSync(path.join(project.config.output_model_path, 'diagnostics.json')));
});

test('without a deployed model, diagnostics says so instead of failing', async () => {
  const project = makeProject();
  await runIngestion(project.config);
  const result = await runDiagnostics(project.config, { dependencies: false, timings: false });
  assert.equal(result.predictions.status, 'unavailable');
  assert.equal(result.model_version, null);
  await assert.rejects(runDiagnostics(makeProject().config, { dependencies: false }), /run ingestion first/);
});

function fakeNpm(script: string): string {
  const bin = tempFolder();
  fs.writeFileSync(path.join(bin, 'npm'), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
  return bin;
}

const NPM_FAULTS: [string, string, RegExp][] = [
  [
    'registry unreachable',
    `echo '{"error": {"code": "ENOTFOUND", "summary": "request to https://registry failed"}}'; exit 1`,
    /npm outdated failed: ENOTFOUND/,
  ],
  ['registry too slow', 'sleep 5', /did not answer within 300 ms/],
  ['garbage answer', 'echo "not json"; exit 1', /no readable answer/],
];

for (const [name, script, reason] of NPM_FAULTS) {
  test(`dependency status is "unavailable" with a reason: ${name}`, async () => {
    const oldPath = process.env.PATH;
    process.env.PATH = `${fakeNpm(script)}:${oldPath}`;
    try {
      const report = await checkDependencies(REPO, 300);
      assert.equal(report.status, 'unavailable');
      assert.match(report.reason ?? '', reason);
      assert.ok(
        report.packages.some((p) => p.name === 'express' && p.current !== null),
        'installed versions still listed',
      );
    } finally {
      process.env.PATH = oldPath;
    }
  });
}

test('dependency status lists current, wanted and latest from npm outdated', async () => {
  const oldPath = process.env.PATH;
  process.env.PATH = `${fakeNpm(`echo '{"express": {"current": "5.0.0", "wanted": "5.3.0", "latest": "5.3.0"}}'; exit 1`)}:${oldPath}`;
  try {
    const report = await checkDependencies(REPO, 5000);
    assert.equal(report.status, 'ok');
    const express = report.packages.find((p) => p.name === 'express')!;
    assert.deepEqual([express.current, express.wanted, express.latest, express.outdated], ['5.0.0', '5.3.0', '5.3.0', true]);
    const valibot = report.packages.find((p) => p.name === 'valibot')!;
    assert.equal(valibot.outdated, false);
    assert.equal(valibot.current, valibot.latest);
  } finally {
    process.env.PATH = oldPath;
  }
});
