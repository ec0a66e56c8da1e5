/**
 * Any cell length costs linear time and is shortened for display. The work
 * is counted, not timed: the characters the layout measures do not grow with
 * the length of a cell (the report shows only what fits), and the whole
 * pipeline on 20,000-character ids shows them cut while riskscores.csv keeps
 * them whole. `npm run bench:report` times the same on real runs.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { runDeployment } from '../src/deployment.js';
import { runIngestion } from '../src/ingestion.js';
import { characterMeasurer, loadFonts, type TextMeasurer } from '../src/lib/report/fonts.js';
import { createPdfDocument, renderPdf, type ReportDocument } from '../src/lib/report/pdf.js';
import { fitLine, shorten, widthUpTo, wrapLines } from '../src/lib/report/text-fit.js';
import { runReporting } from '../src/reporting.js';
import { runScoring } from '../src/scoring.js';
import { runTraining } from '../src/training.js';
import { FIXTURES, makeProject, tempFolder } from './helpers.js';

/** A measurer that counts the characters it is asked about. */
function countingMeasurer(): { measure: TextMeasurer; characters: () => number } {
  const fonts = loadFonts();
  const inner = characterMeasurer(createPdfDocument(fonts));
  let characters = 0;
  return {
    measure: (text, size, bold) => {
      characters += text.length;
      return inner(text, size, bold);
    },
    characters: () => characters,
  };
}

test('fitLine, wrapLines and widthUpTo measure what fits, not the whole text', () => {
  for (const length of [10_000, 20_000, 200_000]) {
    const text = 'x'.repeat(length);
    const counter = countingMeasurer();
    const line = fitLine(text, 100, 8.5, false, counter.measure);
    assert.ok(line.endsWith('…') && line.length < 40, line);
    const lines = wrapLines(`${text} and more words`, 100, 8.5, false, counter.measure, 3);
    assert.equal(lines.length, 3);
    assert.ok(lines[2].endsWith('…'));
    assert.ok(widthUpTo(text, 8.5, false, 100, counter.measure) > 100);
    assert.ok(counter.characters() < 500, `${counter.characters()} characters measured for a text of ${length}`);
  }
});

test('fitLine and wrapLines keep short text whole and wrap at spaces', () => {
  const { measure } = countingMeasurer();
  assert.equal(fitLine('short', 100, 8.5, false, measure), 'short');
  assert.deepEqual(wrapLines('one two three', 1000, 8.5, false, measure, 3), ['one two three']);
  const narrow = wrapLines('abc abc abc abc abc', measure('abc abc', 8.5, false) + 0.01, 8.5, false, measure, 5);
  assert.deepEqual(narrow, ['abc abc', 'abc abc', 'abc']);
  assert.deepEqual(wrapLines('', 50, 8.5, false, measure, 2), ['']);
  assert.equal(shorten('abcdef', 4), 'abc…');
  assert.equal(shorten('ab😀cd', 3), 'ab…', 'a surrogate pair is not split');
});

/** A report whose one table holds 20 rows with ids of `length` characters. */
function longIdReport(length: number): ReportDocument {
  const rows = Array.from({ length: 20 }, (_, i) => [
    String(i + 1),
    `${i}-${'x'.repeat(length)}`,
    '81.0%',
    `reason ${'y'.repeat(length)} and more`,
  ]);
  return {
    title: 'cells',
    subject: 'cells',
    footer: 'cells',
    createdAt: new Date('2026-01-01T00:00:00Z'),
    blocks: [
      {
        kind: 'table',
        columns: [{ header: '#', align: 'right' }, { header: 'id' }, { header: 'risk', align: 'right' }, { header: 'why', wrap: 3 }],
        rows,
      },
    ],
  };
}

test('a table of 20 ids of 10,000 or 20,000 characters: the layout measures the same, small amount', async () => {
  const measured: number[] = [];
  for (const length of [10_000, 20_000]) {
    const counter = countingMeasurer();
    const doc = createPdfDocument(loadFonts());
    const { pages } = await renderPdf(doc, longIdReport(length), { measure: counter.measure });
    assert.equal(pages, 1);
    measured.push(counter.characters());
  }
  assert.ok(measured[1] <= measured[0] * 1.05, `measured ${measured.join(' vs ')} characters: grows with the cell length`);
  assert.ok(measured[0] < 40 * 1000, `measured ${measured[0]} characters for 40 long cells`);
});

test('the pipeline on 20,000-character ids: the report shows them cut, riskscores.csv whole', async (t) => {
  const input = tempFolder('long-ids-');
  const length = 20_000;
  let row = 0;
  for (const name of ['dataset1.csv', 'dataset2.csv']) {
    const [header, ...lines] = fs
      .readFileSync(path.join(FIXTURES, 'generated', 'practicedata', name), 'utf8')
      .trimEnd()
      .split('\n');
    const long = lines.map((line) => `${row++}-${'x'.repeat(length)}${line.slice(line.indexOf(','))}`);
    fs.writeFileSync(path.join(input, name), [header, ...long].join('\n') + '\n');
  }
  const { config } = makeProject({ input });
  await runIngestion(config);
  await runTraining(config);
  await runScoring(config);
  await runDeployment(config);
  const result = await runReporting(config);
  const records = parse<Record<string, string>>(fs.readFileSync(result.written.risk_scores!, 'utf8'), { columns: true });
  assert.equal(records.length, result.risk_list!.clients);
  for (const record of records) assert.ok(record.corporation.length > length, 'the CSV keeps the whole id');
  let text: string;
  try {
    text = execFileSync('pdftotext', ['-layout', '-f', '1', '-l', '1', result.written.report, '-'], { encoding: 'utf8' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return t.skip('pdftotext (poppler-utils) is not installed');
    throw error;
  }
  const first = records[0].corporation;
  assert.ok(text.includes(first.slice(0, 20)), 'page 1 shows the riskiest id');
  assert.ok(!text.includes(first.slice(0, 200)), 'but not whole');
  assert.match(text, /x…/);
});
