/** CSV tokenizer: agrees with csv-parse on RFC 4180 input, across chunk boundaries, and names the line of broken input. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { decodeUtf8, formatCsvRecord, parseCsvText, readCsvFile, readCsvHeader } from '../src/lib/data/csv.js';
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

test('bytes that are not UTF-8 are an error naming the line, whatever the chunk size', () => {
  const folder = tempFolder();
  const file = path.join(folder, 'latin1.csv');
  const text = 'a,b\n1,2\n"two\nlines",3\nzürich,4\n';
  fs.writeFileSync(file, Buffer.concat([Buffer.from(text), Buffer.from('Soci\xe9t\xe9,5\n', 'latin1')]));
  for (const chunkBytes of [3, 7, 64, 1 << 20]) {
    assert.throws(
      () => readCsvFile(file, 'latin1.csv', () => {}, { chunkBytes }),
      (error: unknown) => error instanceof DataError && error.line === 6 && /0xE9, byte 5 of the line/.test(error.message),
      `chunk size ${chunkBytes}`,
    );
  }
  assert.equal(decodeUtf8(Buffer.from(text), 'body'), text);
  assert.throws(
    () => decodeUtf8(Buffer.from('a,b\n1,\xff\n', 'latin1'), 'request body'),
    (error: unknown) => error instanceof DataError && error.file === 'request body' && error.line === 2,
  );
});

test('lone CR line endings are named at line 1, and the header read stops early however long the file', () => {
  const folder = tempFolder();
  const file = path.join(folder, 'mac.csv');
  fs.writeFileSync(file, 'a,b\r' + '1,2\r'.repeat(200_000));
  let records = 0;
  assert.throws(
    () => readCsvFile(file, 'mac.csv', () => records++, { chunkBytes: 64 << 10 }),
    (error: unknown) => error instanceof DataError && error.line === 1 && /lone CR/.test(error.message),
  );
  assert.equal(records, 0, 'nothing was read as a record');
  assert.throws(() => readCsvHeader(file, 'mac.csv'), /mac\.csv:1: lines end with a lone CR/);
  // CRLF files and a CR inside quotes are fine.
  const crlf = path.join(folder, 'crlf.csv');
  fs.writeFileSync(crlf, 'a,b\r\n"x\ry",2\r\n');
  assert.deepEqual(readCsvHeader(crlf, 'crlf.csv'), ['a', 'b']);
});

/** Runs `read` with every read buffer's unread part holding stale bytes: lone CRs and quotes, as reused memory may. */
function withStaleBuffers<T>(read: () => T): T {
  const realReadSync = fs.readSync;
  fs.readSync = ((fd: number, buffer: Uint8Array, offset: number, length: number, position: null) => {
    const count = realReadSync(fd, buffer, offset, length, position);
    for (let i = offset + count; i < buffer.length; i++) buffer[i] = i % 3 === 0 ? 13 : i % 3 === 1 ? 34 : 10;
    return count;
  }) as typeof fs.readSync;
  try {
    return read();
  } finally {
    fs.readSync = realReadSync;
  }
}

const SHORT_FILES: [string, string, string[][]][] = [
  ['an empty file', '', []],
  ['a header without a line break', 'a,b,c', [['a', 'b', 'c']]],
  ['a header with a line break', 'a,b,c\n', [['a', 'b', 'c']]],
  [
    'a header and a row without a final line break',
    'a,b,c\r\n1,2,3',
    [
      ['a', 'b', 'c'],
      ['1', '2', '3'],
    ],
  ],
];

for (const [name, content, records] of SHORT_FILES) {
  for (const chunkBytes of [4, 64 << 10, undefined]) {
    test(`only the bytes read are looked at, whatever the buffer held: ${name} (chunk ${chunkBytes ?? 'default'})`, () => {
      const file = path.join(tempFolder(), 'short.csv');
      fs.writeFileSync(file, content);
      const seen: string[][] = [];
      withStaleBuffers(() => readCsvFile(file, 'short.csv', (fields) => seen.push([...fields]), { chunkBytes }));
      assert.deepEqual(seen, records);
      assert.deepEqual(
        withStaleBuffers(() => readCsvHeader(file, 'short.csv')),
        records[0],
      );
    });
  }
}

/** A CR outside quotes that does not end a line: [case, file content, line named]. */
const CR_INSIDE: [string, string, number][] = [
  ['in a plain line', 'a,b\nx\ry,1\n', 2],
  ['in a plain line of a CRLF file', 'a,b\r\nx,1\r\ny\rz,2\r\n', 3],
  ['in the last line, without a final line break', 'a,b\nx,1\nx\ry,2', 3],
  ['ending a line in the middle of the file', 'a,b\nx,1\ry,2\n', 2],
  ['in a line after a quoted field (the text path)', 'a,b\n"q",1\nx\ry,2\n', 3],
  ['in an unquoted field of a record with quotes', 'a,b\nx\ry,"1"\n', 2],
  ['right after a closing quote', 'a,b\n"x"\r,1\n', 2],
];

for (const [name, content, line] of CR_INSIDE) {
  test(`a CR outside quotes inside a line is named: ${name}`, () => {
    const file = path.join(tempFolder(), 'cr.csv');
    fs.writeFileSync(file, content);
    for (const chunkBytes of [4, 64 << 10]) {
      assert.throws(
        () => readCsvFile(file, 'cr.csv', () => {}, { chunkBytes }),
        (error: unknown) => error instanceof DataError && error.line === line && /a CR outside quotes/.test(error.message),
      );
    }
    assert.throws(() => parseCsvText(content, 'body', () => {}), new RegExp(`body:${line}: a CR outside quotes`));
  });
}

test('a CR inside quotes is a value, and CRLF line ends are line ends', () => {
  const records: string[][] = [];
  parseCsvText('a,b\r\n"x\ry",1\r\n"z\r\n",2\r\n', 'body', (fields) => records.push([...fields]));
  assert.deepEqual(records, [
    ['a', 'b'],
    ['x\ry', '1'],
    ['z\r\n', '2'],
  ]);
});
