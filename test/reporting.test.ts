/**
 * reporting: report.pdf and confusionmatrix.png from the records the real
 * stages write (run in-process into a temp folder on the generated fixtures),
 * degraded notes for missing records, and exit 2 when there is nothing to report on.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { validateConfig, type Config } from '../src/lib/config.js';
import { readDataset } from '../src/lib/dataset.js';
import { exitCodeOf, UserError } from '../src/lib/errors.js';
import { loadModelFile, predictProbabilities } from '../src/lib/model.js';
import { PROJECT_ROOT } from '../src/lib/project.js';
import { binRisk, formatMetric, topRiskIndexes } from '../src/lib/report/sections.js';
import { runDeployment } from '../src/deployment.js';
import { runDiagnostics } from '../src/diagnostics.js';
import { runIngestion } from '../src/ingestion.js';
import { runReporting } from '../src/reporting.js';
import { runScoring, type ScoringResult } from '../src/scoring.js';
import { runTraining } from '../src/training.js';

const FIXTURES = path.join(PROJECT_ROOT, 'test', 'fixtures');
const PRACTICE = path.join(FIXTURES, 'generated', 'practicedata');
const TESTDATA = path.join(FIXTURES, 'generated', 'testdata');
const RUN_HISTORY = path.join(FIXTURES, 'report', 'runhistory.jsonl');

/** A validated config in `folder` on the generated fixtures; outputs inside `folder`. */
function makeConfig(folder: string, overrides: Record<string, string> = {}): Config {
  const raw = {
    input_folder_path: PRACTICE,
    output_folder_path: 'ingesteddata',
    test_data_path: TESTDATA,
    output_model_path: 'models',
    prod_deployment_path: 'production_deployment',
    ...overrides,
  };
  const file = path.join(folder, 'config.json');
  fs.writeFileSync(file, JSON.stringify(raw, null, 2));
  return validateConfig(raw, file);
}

/** The text of a PDF via pdftotext, or undefined when poppler's pdftotext is not installed. */
function pdfText(file: string): string | undefined {
  try {
    return execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  assert.equal(bytes.subarray(12, 16).toString('latin1'), 'IHDR');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

function close(actual: number | null, expected: number | null, tolerance = 1e-12): void {
  if (expected === null) return assert.equal(actual, null);
  assert.ok(actual !== null && Math.abs(actual - expected) <= tolerance, `${actual} differs from ${expected}`);
}

let root: string;
let config: Config;
let score: ScoringResult;

before(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'risk-reporting-'));
  config = makeConfig(root);
  await runIngestion(config);
  await runTraining(config);
  score = await runScoring(config);
  await runDeployment(config);
  await runDiagnostics(config, { timings: false, dependencies: false });
});

after(() => fs.rmSync(root, { recursive: true, force: true }));

describe('reporting on the practice pipeline', () => {
  test('writes report.pdf and confusionmatrix.png for the deployed model, with the scored metrics', async () => {
    const result = await runReporting(config);
    assert.equal(result.model_version, 1);
    assert.ok(result.pages >= 3, `expected several pages, got ${result.pages}`);
    assert.equal(fs.readFileSync(result.written.report).subarray(0, 5).toString('latin1'), '%PDF-');
    for (const key of ['f1', 'precision', 'recall', 'accuracy', 'roc_auc', 'log_loss'] as const) close(result.metrics[key], score[key]);
    assert.deepEqual(result.metrics.confusion_matrix, score.confusion_matrix);
    // Only the run history is missing after the plain stages.
    assert.equal(result.warnings.length, 1, result.warnings.join('\n'));
    assert.match(result.warnings[0], /no run history/);
    assert.ok(
      fs.readdirSync(config.output_model_path).every((name) => !name.includes('.tmp-')),
      'no temporary files left',
    );
  });

  test('the confusion-matrix PNG decodes to at least 500 x 500 px', async () => {
    const result = await runReporting(config);
    const size = pngSize(fs.readFileSync(result.written.confusion_matrix));
    assert.deepEqual(size, result.confusion_matrix_png);
    assert.ok(size.width >= 500 && size.height >= 500, `PNG is ${size.width} x ${size.height}`);
  });

  test('the PDF text shows every metric as formatted and the riskiest client first', async (t) => {
    const result = await runReporting(config);
    const text = pdfText(result.written.report);
    if (text === undefined) return t.skip('pdftotext (poppler-utils) is not installed; PDF text not checked');
    for (const value of [score.f1, score.precision, score.recall, score.accuracy, score.roc_auc, score.log_loss]) {
      assert.ok(text.includes(formatMetric(value)), `PDF lacks ${formatMetric(value)}`);
    }
    for (const label of ['F1', 'Precision', 'Recall', 'Accuracy', 'ROC AUC', 'Log-loss', 'Page 1 of', 'Confusion matrix', 'ROC curve']) {
      assert.ok(text.includes(label), `PDF lacks "${label}"`);
    }
    // The riskiest client of finaldata.csv under the deployed model, computed here independently.
    const model = loadModelFile(path.join(config.prod_deployment_path, 'trainedmodel.json'));
    const data = readDataset(path.join(config.output_folder_path, 'finaldata.csv'), config.schema, { requireTarget: false });
    const p = predictProbabilities(model, data.columns);
    let best = 0;
    for (let i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
    const tableStart = text.indexOf('clients by attrition risk');
    assert.ok(tableStart >= 0, 'PDF lacks the top-clients section');
    const firstRow = text
      .slice(tableStart)
      .split('\n')
      .find((line) => /^\s*1\s+\S+\s+0\.\d{4}/.test(line));
    assert.ok(firstRow, 'top-clients table has no first row');
    assert.match(firstRow, new RegExp(`^\\s*1\\s+${data.ids[best]}\\s+${p[best].toFixed(4)}`));
  });

  test('a run history adds the F1 history and the newest drift table', async (t) => {
    const history = path.join(config.prod_deployment_path, 'runhistory.jsonl');
    fs.copyFileSync(RUN_HISTORY, history);
    try {
      const result = await runReporting(config);
      assert.deepEqual(result.warnings, []);
      const text = pdfText(result.written.report);
      if (text === undefined) return t.skip('pdftotext (poppler-utils) is not installed; PDF text not checked');
      assert.match(text, /run-0004/, 'drift table names the newest run with data drift');
      assert.match(text, /lastmonth_activity\s+0\.1200\s+0\.1100\s+0\.0120\s+yes/);
      assert.match(text, /F1 across runs and deployments/);
      assert.match(text, /retrained candidate/);
    } finally {
      fs.rmSync(history, { force: true });
    }
  });

  test('a missing diagnostics record and run history degrade to notes, the PDF is still written', async (t) => {
    const record = path.join(config.output_model_path, 'diagnostics.json');
    const aside = record + '.aside';
    fs.renameSync(record, aside);
    try {
      fs.rmSync(path.join(config.output_model_path, 'report.pdf'), { force: true });
      const result = await runReporting(config);
      assert.ok(fs.existsSync(result.written.report));
      assert.ok(
        result.warnings.some((w) => /no diagnostics record/.test(w)),
        result.warnings.join('\n'),
      );
      assert.ok(
        result.warnings.some((w) => /no run history/.test(w)),
        result.warnings.join('\n'),
      );
      const text = pdfText(result.written.report);
      if (text === undefined) return t.skip('pdftotext (poppler-utils) is not installed; PDF text not checked');
      assert.match(text, /No diagnostics record \(diagnostics\.json\) could be read/);
      assert.match(text, /Per-feature drift is not available/);
    } finally {
      fs.renameSync(aside, record);
    }
  });

  test('an unreadable diagnostics record is left out with one warning', async () => {
    const record = path.join(config.output_model_path, 'diagnostics.json');
    const saved = fs.readFileSync(record);
    fs.writeFileSync(record, '{"summary_statistics": ');
    try {
      const result = await runReporting(config);
      const about = result.warnings.filter((w) => w.includes('diagnostics.json'));
      assert.equal(about.length, 1, about.join('\n'));
      assert.match(about[0], /cannot be read/);
      assert.ok(fs.existsSync(result.written.report));
    } finally {
      fs.writeFileSync(record, saved);
    }
  });

  test('with nothing deployed it reports on trainedmodel.json and warns', async () => {
    const folder = fs.mkdtempSync(path.join(root, 'undeployed-'));
    const undeployed = {
      ...config,
      prod_deployment_path: path.join(folder, 'production_deployment'),
      output_model_path: path.join(folder, 'models'),
    };
    fs.mkdirSync(undeployed.output_model_path);
    fs.copyFileSync(path.join(config.output_model_path, 'trainedmodel.json'), path.join(undeployed.output_model_path, 'trainedmodel.json'));
    const result = await runReporting(undeployed);
    assert.equal(result.model_version, null);
    assert.ok(
      result.warnings.some((w) => /no model is deployed/.test(w)),
      result.warnings.join('\n'),
    );
    assert.ok(
      result.warnings.some((w) => /no scoring record/.test(w)),
      result.warnings.join('\n'),
    );
    close(result.metrics.f1, score.f1);
    assert.ok(fs.existsSync(path.join(undeployed.output_model_path, 'report.pdf')));
  });
});

describe('nothing to report on', () => {
  test('no model at all is a UserError (exit code 2) and writes nothing', async () => {
    const folder = fs.mkdtempSync(path.join(root, 'empty-'));
    const empty = makeConfig(folder);
    await assert.rejects(runReporting(empty), (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.equal(exitCodeOf(error), 2);
      assert.match((error as Error).message, /nothing to report on: no model is deployed/);
      return true;
    });
    assert.equal(fs.existsSync(path.join(empty.output_model_path, 'report.pdf')), false);
  });

  test('missing test data is a UserError (exit code 2)', async () => {
    const folder = fs.mkdtempSync(path.join(root, 'notest-'));
    fs.mkdirSync(path.join(folder, 'testdata'));
    const noTest = { ...makeConfig(folder, { test_data_path: 'testdata' }), prod_deployment_path: config.prod_deployment_path };
    await assert.rejects(
      runReporting(noTest),
      (error: unknown) => error instanceof UserError && /test data not found/.test((error as Error).message),
    );
  });

  test('the command line exits 2 with the message as JSON', () => {
    const folder = fs.mkdtempSync(path.join(root, 'cli-'));
    makeConfig(folder);
    const run = spawnSync(
      process.execPath,
      [path.join(PROJECT_ROOT, 'dist', 'src', 'reporting.js'), '--config', path.join(folder, 'config.json')],
      {
        encoding: 'utf8',
        env: { ...process.env, LOG_LEVEL: 'silent' },
      },
    );
    assert.equal(run.status, 2, run.stderr);
    const output = JSON.parse(run.stdout) as { error: string; exit_code: number };
    assert.equal(output.exit_code, 2);
    assert.match(output.error, /nothing to report on/);
  });
});

describe('report tables and bins', () => {
  test('topRiskIndexes: highest first, ties in file order, at most n', () => {
    const cases: { p: number[]; n: number; expected: number[] }[] = [
      { p: [0.1, 0.9, 0.5, 0.9, 0.2], n: 3, expected: [1, 3, 2] },
      { p: [0.3, 0.2], n: 5, expected: [0, 1] },
      { p: [], n: 3, expected: [] },
      { p: [0.5, 0.5, 0.5], n: 2, expected: [0, 1] },
    ];
    for (const { p, n, expected } of cases) assert.deepEqual(topRiskIndexes(p, n), expected, JSON.stringify(p));
  });

  test('binRisk counts every probability once, split by outcome, 1.0 in the last bin', () => {
    const bins = binRisk([0, 0.04, 0.05, 0.5, 0.99, 1], Uint8Array.from([0, 1, 0, 1, 1, 0]), 20);
    assert.equal(
      bins.reduce((sum, b) => sum + b.count, 0),
      6,
    );
    const count = (outcome: string, start: number) => bins.find((b) => b.outcome === outcome && Math.abs(b.start - start) < 1e-9)!.count;
    assert.equal(count('0 stayed', 0), 1);
    assert.equal(count('1 exited', 0), 1);
    assert.equal(count('0 stayed', 0.05), 1);
    assert.equal(count('1 exited', 0.5), 1);
    assert.equal(count('1 exited', 0.95), 1);
    assert.equal(count('0 stayed', 0.95), 1);
  });

  test('formatMetric: four decimals, n/a for an undefined AUC', () => {
    const cases: [number | null, string][] = [
      [0.6373626373626373, '0.6374'],
      [1, '1.0000'],
      [null, 'n/a'],
      [Number.NaN, 'n/a'],
    ];
    for (const [value, expected] of cases) assert.equal(formatMetric(value), expected);
  });
});
