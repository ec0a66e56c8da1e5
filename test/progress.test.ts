/** Progress lines appear only on a terminal and cope with terminals that report no width. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startProgress } from '../src/lib/progress.js';

function fakeStream(isTTY: boolean, columns: number) {
  const written: string[] = [];
  return { stream: { isTTY, columns, write: (text: string) => written.push(text) } as unknown as NodeJS.WriteStream, written };
}

test('off a terminal nothing is written', () => {
  const { stream, written } = fakeStream(false, 80);
  const progress = startProgress('ingestion', stream);
  progress.update('file 1 of 2');
  progress.done();
  assert.deepEqual(written, []);
});

for (const columns of [0, 10, 120]) {
  test(`on a terminal of ${columns} columns the line is drawn and cleared`, () => {
    const { stream, written } = fakeStream(true, columns);
    const progress = startProgress('ingestion', stream);
    progress.update('dataset1.csv (1/2)');
    progress.done();
    assert.equal(written.length, 2);
    assert.match(written[0], /^\ringestion: dataset1/);
    assert.match(written[1], /^\r +\r$/);
  });
}

test('a message given as a function is built only when the line is shown', () => {
  let built = 0;
  const message = (): string => {
    built++;
    return 'dataset1.csv (1/2)';
  };
  startProgress('ingestion', fakeStream(false, 80).stream).update(message);
  assert.equal(built, 0);
  const { stream, written } = fakeStream(true, 80);
  startProgress('ingestion', stream).update(message);
  assert.equal(built, 1);
  assert.match(written[0], /^\ringestion: dataset1\.csv \(1\/2\)/);
});
