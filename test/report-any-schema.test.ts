/**
 * The report works for any schema: 30 features with long names, an id column
 * and a target of other names. Built here (the project's generator writes
 * the default schema only), run through two real ticks (bootstrap, then a
 * drifted file, so every feature gets a drift chart), then checked on the
 * PDF: every word on every A4 page lies inside the margins, the call list
 * shows id, risk and reasons only, and the names come from the schema.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { runFullprocess } from '../src/fullprocess.js';
import { Random } from '../src/lib/data/generator.js';
import { runReporting, type ReportingResult } from '../src/reporting.js';
import { makeProject, tempFolder, type TempProject } from './helpers.js';

const FEATURES = Array.from({ length: 30 }, (_, i) => `metric_${String(i + 1).padStart(2, '0')}_average_weekly_support_tickets`);
const SCHEMA = { id_column: 'client_reference', features: FEATURES, target: 'churned' };
const MARGIN = 50;

/** Rows of a world: feature i ~ N(10 + shift, 3); churn depends on the first five features. */
function rows(random: Random, count: number, shift: number, prefix: string): string[] {
  const lines: string[] = [];
  for (let r = 0; r < count; r++) {
    const values = FEATURES.map(() => Math.max(0, Math.round((10 + shift + 3 * random.normal()) * 10) / 10));
    const logit =
      0.4 * (values[0] - 10) - 0.3 * (values[1] - 10) + 0.2 * (values[2] - 10) - 0.2 * (values[3] - 10) + 0.1 * (values[4] - 10);
    const churned = random.next() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
    lines.push([`${prefix}-${r}`, ...values.map((v) => (random.next() < 0.01 ? '' : String(v))), churned].join(','));
  }
  return lines;
}

function writeCsv(file: string, lines: string[]): void {
  fs.writeFileSync(file, [[SCHEMA.id_column, ...FEATURES, SCHEMA.target].join(','), ...lines].join('\n') + '\n');
}

let project: TempProject;
let report: ReportingResult;

before(async () => {
  const random = new Random(30);
  const input = tempFolder('wide-input-');
  const testData = tempFolder('wide-test-');
  writeCsv(path.join(input, 'dataset1.csv'), rows(random, 300, 0, 'a'));
  writeCsv(path.join(input, 'dataset2.csv'), rows(random, 300, 0, 'b'));
  writeCsv(path.join(testData, 'testdata.csv'), rows(random, 400, 0, 't'));
  project = makeProject({
    input,
    testData,
    extra: { schema: SCHEMA, automation: { settle_seconds: 0 }, diagnostics: { outdated_timeout_ms: 100 } },
  });
  assert.equal((await runFullprocess(project.config)).outcome, 'bootstrapped');
  writeCsv(path.join(project.input, 'dataset3.csv'), rows(random, 300, 2, 'c'));
  const check = await runFullprocess(project.config);
  assert.ok(check.data_drift && Object.keys(check.data_drift).length === 30, check.decision);
  report = await runReporting(project.config);
});

/** Pages and words with their boxes, from pdftotext -bbox; undefined without poppler. */
function wordBoxes(file: string): { width: number; height: number; words: { text: string; xMin: number; xMax: number }[] }[] | undefined {
  let html: string;
  try {
    html = execFileSync('pdftotext', ['-bbox', file, '-'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return html
    .split('<page ')
    .slice(1)
    .map((page) => ({
      width: Number(/width="([\d.]+)"/.exec(page)![1]),
      height: Number(/height="([\d.]+)"/.exec(page)![1]),
      words: [...page.matchAll(/<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)<\/word>/g)].map((m) => ({
        text: m[3],
        xMin: Number(m[1]),
        xMax: Number(m[2]),
      })),
    }));
}

test('30 features: every word of every page lies within the page margins', (t) => {
  const pages = wordBoxes(report.written.report);
  if (!pages) return t.skip('pdftotext (poppler-utils) is not installed');
  assert.equal(pages.length, report.pages);
  for (const [index, page] of pages.entries()) {
    assert.ok(Math.abs(page.width - 595.28) < 0.5 && Math.abs(page.height - 841.89) < 0.5, `page ${index + 1} is A4`);
    for (const word of page.words) {
      assert.ok(
        word.xMin >= MARGIN - 1 && word.xMax <= page.width - MARGIN + 1,
        `page ${index + 1}: "${word.text}" spans ${word.xMin}..${word.xMax}, outside ${MARGIN}..${page.width - MARGIN}`,
      );
    }
  }
});

test('30 features: the call list shows id, risk and reasons; names come from the schema', (t) => {
  let text: string;
  try {
    text = execFileSync('pdftotext', ['-layout', report.written.report, '-'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return t.skip('pdftotext (poppler-utils) is not installed');
    throw error;
  }
  const page1 = text.split('\f')[0];
  assert.match(page1, /#\s+client reference\s+risk\s+why: what raises the risk most/);
  assert.match(page1, /metric 0\d average weekly support tickets (far |very far |slightly )?(above|below) typical/);
  assert.ok(!/\b(exited|stayed)\b/.test(text), 'no words of the default schema');
  assert.match(text, /churned = 1/);
  assert.equal(report.risk_list?.clients !== undefined && report.risk_list.clients > 0, true);
  for (const feature of FEATURES.slice(0, 3)) assert.ok(text.includes(feature.replace(/_/g, ' ')), `drift section names ${feature}`);
});
