/** DuplicateFilter: writes each new row once, in order, whatever the batch boundaries, line ends and row kinds. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { readCsvHeader } from '../src/lib/data/csv.js';
import { resolveHeader } from '../src/lib/data/dataset.js';
import { DuplicateFilter, readFileRows, type RowOutput } from '../src/lib/data/merge.js';
import { RowSet } from '../src/lib/data/row-set.js';
import { tempFolder } from './helpers.js';

/** An output that keeps what is written, as text. */
function memoryOutput(): RowOutput & { text: () => string } {
  const parts: Buffer[] = [];
  return {
    write: (text) => parts.push(Buffer.from(text)),
    writeBytes: (bytes, start, end) => parts.push(Buffer.from(bytes.subarray(start, end))),
    writeByte: (byte) => parts.push(Buffer.from([byte])),
    text: () => Buffer.concat(parts).toString(),
  };
}

type Step = { plain: string } | { general: string };

/** Feeds `steps` in order: plain lines of one buffer (its lines, each ending with LF or CRLF), general rows between. */
function run(steps: Step[], batchLines: number): { written: string; kept: number } {
  const output = memoryOutput();
  const filter = new DuplicateFilter(new RowSet(4), output, batchLines);
  for (const step of steps) {
    if ('general' in step) {
      filter.general(step.general, step.general);
      continue;
    }
    const bytes = Buffer.from(step.plain);
    let start = 0;
    while (start < bytes.length) {
      const lf = bytes.indexOf(10, start);
      const end = bytes[lf - 1] === 13 ? lf - 1 : lf;
      if (end > start) filter.plain(bytes, start, end);
      start = lf + 1;
    }
    filter.flush();
  }
  return { written: output.text(), kept: filter.takeKept() };
}

const CASES: [string, Step[], string][] = [
  ['repeats inside one buffer', [{ plain: 'a,1\nb,2\na,1\nc,3\nb,2\n' }], 'a,1\nb,2\nc,3\n'],
  ['CRLF line ends are written as LF', [{ plain: 'a,1\r\nb,2\r\na,1\r\nc,3\r\n' }], 'a,1\nb,2\nc,3\n'],
  ['blank lines between rows', [{ plain: 'a,1\n\nb,2\n\n\nc,3\n' }], 'a,1\nb,2\nc,3\n'],
  ['repeats across buffers', [{ plain: 'a,1\nb,2\n' }, { plain: 'b,2\nc,3\na,1\n' }], 'a,1\nb,2\nc,3\n'],
  [
    'general rows between plain ones keep their place',
    [{ plain: 'a,1\nb,2\n' }, { general: '"x,y",1' }, { plain: 'c,3\n' }, { general: 'a,1' }, { general: '"x,y",1' }],
    'a,1\nb,2\n"x,y",1\nc,3\n',
  ],
  ['a row that is a prefix of another', [{ plain: 'ab,1\nab,12\nab,1\nab,12\n' }], 'ab,1\nab,12\n'],
];

for (const [name, steps, written] of CASES) {
  for (const batchLines of [1, 2, 3, 4096]) {
    test(`${name} (batches of ${batchLines})`, () => {
      const result = run(steps, batchLines);
      assert.equal(result.written, written);
      assert.equal(result.kept, written.split('\n').length - 1);
    });
  }
}

const HEADER = 'corporation,lastmonth_activity,lastyear_activity,number_of_employees,exited';

test('reading files in reads of any size: every repeat dropped, first ones kept in order', () => {
  const folder = tempFolder();
  const row = (k: number): string => `c${k % 97},${k % 5},${k % 3},,${k % 2}`;
  // Repeats inside and across files and reads, quoted rows between plain ones, CRLF, non-canonical numbers.
  const files: [string, string][] = [
    ['a.csv', `${HEADER}\n${Array.from({ length: 700 }, (_, k) => row(k)).join('\n')}\n`],
    [
      'b.csv',
      `${HEADER}\r\n${Array.from({ length: 700 }, (_, k) => (k % 50 === 0 ? `"c${k % 97}",${k % 5},${k % 3},,${k % 2}` : row(k + 300))).join('\r\n')}\r\n`,
    ],
    [
      'c.csv',
      `${HEADER}\n${Array.from({ length: 300 }, (_, k) => (k % 7 === 0 ? `c${k % 97},${k % 5}.0,${k % 3},,${k % 2}` : row(k * 11))).join('\n')}`,
    ],
  ];
  for (const [name, content] of files) fs.writeFileSync(path.join(folder, name), content);
  // What the rows mean: ids as written (quotes removed), numbers as numbers.
  const meaning = (line: string): string => line.replace(/"/g, '').replace(/\.0,/g, ',');
  const expectedKept = [
    ...new Map(files.flatMap(([, content]) => content.split(/\r?\n/).slice(1).filter(Boolean)).map((line) => [meaning(line), line])).keys(),
  ];
  const schema = {
    id_column: 'corporation',
    features: ['lastmonth_activity', 'lastyear_activity', 'number_of_employees'],
    target: 'exited',
    categorical_features: [],
  };
  const columns = { schema, outputColumns: HEADER.split(','), numericOutput: [false, true, true, true, true] };
  for (const chunkBytes of [16, 64, 1000, undefined]) {
    const output = memoryOutput();
    const filter = new DuplicateFilter(new RowSet(4), output, 50);
    const kept: number[] = [];
    for (const [name] of files) {
      const header = readCsvHeader(path.join(folder, name), name)!;
      const plan = {
        name,
        path: path.join(folder, name),
        header,
        layout: resolveHeader(header, schema, name),
        mapping: [0, 1, 2, 3, 4],
        sameOrder: true,
      };
      readFileRows(plan, columns, filter, { chunkBytes });
      kept.push(filter.takeKept());
    }
    const written = output.text().split('\n').slice(0, -1);
    assert.deepEqual(written.map(meaning), expectedKept, `reads of ${chunkBytes ?? 'default'} bytes`);
    assert.equal(
      kept.reduce((a, b) => a + b),
      expectedKept.length,
    );
  }
});

test('plain lines of a new buffer while lines wait are refused (the reader must flush first)', () => {
  const filter = new DuplicateFilter(new RowSet(4), memoryOutput(), 50);
  filter.plain(Buffer.from('a,1\n'), 0, 3);
  assert.throws(() => filter.plain(Buffer.from('b,2\n'), 0, 3), /before flush/);
});
