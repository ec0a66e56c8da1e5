/** DuplicateFilter: writes each new row once, in order, whatever the batch boundaries, line ends and row kinds. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DuplicateFilter, type RowOutput } from '../src/lib/merge.js';
import { RowSet } from '../src/lib/row-set.js';

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
