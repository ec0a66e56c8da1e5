/** CSV tokenizer: agrees with csv-parse on RFC 4180 input, across chunk boundaries, and names the line of broken input. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { formatCsvRecord, parseCsvText, readCsvFile } from '../src/lib/csv.js';
import { DataError } from '../src/lib/errors.js';
import { tempFolder } from './helpers.js';

function tokenize(text: string): { fields: string[]; line: number }[] {
  const out: { fields: string[]; line: number }[] = [];
  parseCsvText(text, 'x.csv', (fields, line) => out.push({ fields: [...fields], line }));
  return out;
}

const VALID: [string, string][] = [
  ['plain LF', 'a,b,c\n1,2,3\n4,5,6\n'],
  ['CRLF', 'a,b,c\r\n1,2,3\r\n4,5,6\r\n'],
  ['no trailing newline', 'a,b,c\n1,2,3\n4,5,6'],
  ['BOM', '\uFEFFa,b,c\n1,2,3\n'],
  ['quoted comma', 'a,b\n"x,y",2\n'],
  ['escaped quote', 'a,b\n"say ""hi""",2\n'],
  ['line break inside quotes', 'a,b\n"two\nlines",2\n3,4\n'],
  ['CRLF inside quotes', 'a,b\r\n"two\r\nlines",2\r\n3,4\r\n'],
  ['empty fields', 'a,b,c\n,,\n1,,3\n'],
  ['quoted empty field', 'a,b\n"",1\n'],
  ['quoted last field without newline', 'a,b\n1,"z"'],
  ['unicode', 'a,b\nzürich,東京\n'],
];

for (const [name, text] of VALID) {
  test(`tokenizer agrees with csv-parse: ${name}`, () => {
    const ours = tokenize(text).map((r) => r.fields);
    const theirs: string[][] = parse(text, { bom: true, relax_column_count: true, skip_empty_lines: true });
    assert.deepEqual(ours, theirs);
  });
}

test('blank lines are skipped and line numbers count physical lines', () => {
  const records = tokenize('a,b\n\n1,2\n"x\ny",3\n4,5\n');
  assert.deepEqual(
    records.map((r) => r.line),
    [1, 3, 4, 6],
  );
});

test('streaming across tiny chunks gives the same records as one piece', () => {
  const folder = tempFolder();
  const file = path.join(folder, 'big.csv');
  const lines = ['\uFEFFid,text,n'];
  for (let i = 0; i < 500; i++) lines.push(i % 7 === 0 ? `${i},"multi\r\nline, with ""quotes""",${i}` : `${i},plain ünïcode ${i},${i * 2}`);
  const text = lines.join('\r\n') + '\r\n';
  fs.writeFileSync(file, text);
  const whole = tokenize(text);
  for (const chunk of [1, 2, 3, 7, 64, 1000]) {
    const streamed: { fields: string[]; line: number }[] = [];
    const digest = readCsvFile(file, 'big.csv', (fields, line) => streamed.push({ fields: [...fields], line }), { chunkBytes: chunk });
    assert.deepEqual(streamed, whole, `chunk size ${chunk}`);
    assert.equal(digest.size, Buffer.byteLength(text));
  }
});

const BROKEN: [string, string, number, RegExp][] = [
  ['unterminated quote', 'a,b\n1,2\n"open,3\n4,5\n', 3, /unterminated quoted field/],
  ['text after closing quote', 'a,b\n"x"y,2\n', 2, /after the closing quote/],
];

for (const [name, text, line, message] of BROKEN) {
  test(`broken CSV is an error naming file and line: ${name}`, () => {
    assert.throws(
      () => tokenize(text),
      (error: unknown) => error instanceof DataError && error.line === line && error.file === 'x.csv' && message.test(error.message),
    );
  });
}

test('formatting quotes only what needs quoting and round-trips', () => {
  const fields = ['plain', 'a,b', 'say "hi"', 'two\nlines', ''];
  const line = formatCsvRecord(fields);
  assert.equal(line, 'plain,"a,b","say ""hi""","two\nlines",');
  assert.deepEqual(tokenize(line)[0].fields, fields);
});
