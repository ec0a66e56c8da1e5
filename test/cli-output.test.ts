/** A command's result: indented JSON on a terminal, one JSON line anywhere else (files, pipes, cron). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { printResult } from '../src/lib/cli.js';

function fakeStream(isTTY: boolean) {
  const written: string[] = [];
  return { stream: { isTTY, write: (text: string) => written.push(text) } as unknown as NodeJS.WriteStream, written };
}

const RESULT = { outcome: 'no-drift', scores: { deployed_f1: 0.8, new_data_f1: 0.81 }, notes: ['a', 'b'] };

test('off a terminal the result is one line', () => {
  const { stream, written } = fakeStream(false);
  printResult(RESULT, stream);
  assert.deepEqual(written, [JSON.stringify(RESULT) + '\n']);
});

test('on a terminal the result is indented', () => {
  const { stream, written } = fakeStream(true);
  printResult(RESULT, stream);
  assert.deepEqual(written, [JSON.stringify(RESULT, null, 2) + '\n']);
});
