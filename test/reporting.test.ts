/**
 * reporting: report.pdf, confusionmatrix.png and riskscores.csv from the
 * records the real stages write (run in-process into a temp folder on the
 * generated fixtures), degraded notes for missing records, and exit 2 when
 * there is nothing to report on. The risk list itself: risk-list.test.ts and
 * risk-report.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { validateConfig, type Config } from '../src/lib/config.js';
import { readDataset } from '../src/lib/data/dataset.js';
import { exitCodeOf, UserError } from '../src/lib/errors.js';
import { loadModelFile, predictProbabilities } from '../src/lib/model/model-file.js';
import { PROJECT_ROOT } from '../src/lib/project.js';
import { formatMetric } from '../src/lib/wording.js';
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
  test('writes report.pdf, confusionmatrix.png and riskscores.csv for the deployed model, with the scored metrics', async () => {
    const result = await runReporting(config);
    assert.equal(result.model_version, 1);
    assert.equal(result.written.risk_scores, path.join(config.output_model_path, 'riskscores.csv'));
    assert.ok(fs.existsSync(result.written.risk_scores));
    assert.equal(result.health, 'unchecked');
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

  test('the PDF text shows every metric as formatted and the riskiest client still with us first', async (t) => {
    const result = await runReporting(config);
    const text = pdfText(result.written.report);
    if (text === undefined) return t.skip('pdftotext (poppler-utils) is not installed; PDF text not checked');
    for (const value of [score.f1, score.precision, score.recall, score.accuracy, score.roc_auc, score.log_loss]) {
      assert.ok(text.includes(formatMetric(value)), `PDF lacks ${formatMetric(value)}`);
    }
    for (const label of [
      'F1',
      'Precision',
      'Recall',
      'Accuracy',
      'ROC AUC',
      'log-loss',
      'Page 1 of',
      'Confusion matrix',
      'ROC curve',
      'Left (base rate)',
    ]) {
      assert.ok(text.includes(label), `PDF lacks "${label}"`);
    }
    // The riskiest client still with us (newest row of its id has exited = 0) under the deployed model, computed here.
    const model = loadModelFile(path.join(config.prod_deployment_path, 'trainedmodel.json'));
    const data = readDataset(path.join(config.output_folder_path, 'finaldata.csv'), config.schema);
    const p = predictProbabilities(model, data.columns);
    const newest = new Map(data.ids.map((id, row) => [id, row]));
    let best = -1;
    for (const row of newest.values()) if (data.target![row] === 0 && (best < 0 || p[row] > p[best])) best = row;
    const tableStart = text.indexOf('Whom to call first');
    assert.ok(tableStart >= 0, 'PDF lacks the call list');
    const firstRow = text
      .slice(tableStart)
      .split('\n')
      .find((line) => /^\s*1\s+\S+\s+\d+\.\d%/.test(line));
    assert.ok(firstRow, 'the call list has no first row');
    assert.match(firstRow, new RegExp(`^\\s*1\\s+${data.ids[best]}\\s+${(100 * p[best]).toFixed(1)}%`));
  });

  test('a run history adds the health line, the F1 history and the newest drift per feature', async (t) => {
    const history = path.join(config.prod_deployment_path, 'runhistory.jsonl');
    fs.copyFileSync(RUN_HISTORY, history);
    try {
      const result = await runReporting(config);
      assert.deepEqual(result.warnings, []);
      const text = pdfText(result.written.report);
      if (text === undefined) return t.skip('pdftotext (poppler-utils) is not installed; PDF text not checked');
      assert.equal(result.health, 'rejected');
      assert.match(text, /Drift found but the candidate was rejected: version 2 stays/);
      assert.match(text, /Version 1 is current\s+now/, 'the deployment moved after the newest tick');
      assert.match(text, /run-0004/, 'the appendix names the newest tick');
      // Captions stand three a row: pdftotext -layout interleaves their lines.
      assert.match(text, /Last-month activity has drifted: the/);
      assert.match(text, /above 20, against 30% of the training/);
      assert.match(text, /rows \(PSI 0\.31; a shift counts from 0\.2\)/);
      assert.match(text, /Last-year activity has not drifted: the/);
      assert.match(text, /F1 per model version/);
      assert.match(text, /rejected candidate, test data/);
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
