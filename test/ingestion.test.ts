/**
 * Ingestion: keeps exactly what pandas concat + drop_duplicates() keeps, in
 * order; bad files stop it with file, line and column named and earlier
 * outputs untouched; odd-but-valid CSV is read; the input folder is never changed.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runIngestion } from '../src/ingestion.js';
import { DataError, UserError } from '../src/lib/errors.js';
import { FIXTURES, REFERENCE_DATA, REPO, expected, makeProject, snapshot } from './helpers.js';

/** Data lines of the input files concatenated in name order (header dropped), as pandas concat sees them. */
function concatenatedLines(folder: string): string[] {
  return fs
    .readdirSync(folder)
    .filter((name) => name.endsWith('.csv'))
    .sort()
    .flatMap((name) =>
      fs
        .readFileSync(path.join(folder, name), 'utf8')
        .split('\n')
        .slice(1)
        .filter((line) => line !== ''),
    );
}

const CASES: [string, string, () => boolean][] = [
  ['reference practice data (original project)', path.join(REFERENCE_DATA, 'practicedata'), () => fs.existsSync(REFERENCE_DATA)],
  ['reference source data (original project)', path.join(REFERENCE_DATA, 'sourcedata'), () => fs.existsSync(REFERENCE_DATA)],
  ['generated practice data with duplicates and missing cells', path.join(FIXTURES, 'generated', 'practicedata'), () => true],
  ['generated source data', path.join(FIXTURES, 'generated', 'sourcedata'), () => true],
  ['shipped practice data', path.join(REPO, 'practicedata'), () => true],
];

for (const [name, folder, available] of CASES) {
  test(
    `keeps what pandas drop_duplicates keeps, in order: ${name}`,
    { skip: available() ? false : 'reference data not present beside the repository' },
    async () => {
      const setName = folder.startsWith(REFERENCE_DATA) ? 'reference' : folder.startsWith(FIXTURES) ? 'generated' : 'shipped';
      const part = path.basename(folder) === 'practicedata' ? 'practice' : 'source';
      const wanted = expected(setName)[part];
      const project = makeProject({ input: folder });
      const result = await runIngestion(project.config);
      assert.equal(result.rows_read, wanted.rows_read);
      assert.equal(result.rows_kept, wanted.rows_kept);
      const all = concatenatedLines(folder);
      const finalLines = fs.readFileSync(result.output_file, 'utf8').trimEnd().split('\n');
      assert.equal(finalLines[0], 'corporation,lastmonth_activity,lastyear_activity,number_of_employees,exited');
      assert.deepEqual(
        finalLines.slice(1),
        wanted.kept_index.map((i: number) => all[i]),
      );
      const listed = fs.readFileSync(path.join(project.config.output_folder_path, 'ingestedfiles.txt'), 'utf8');
      assert.equal(listed, wanted.files.map((f: string) => f + '\n').join(''));
    },
  );
}

test(
  'reference practice data: 36 rows read, 26 kept',
  { skip: fs.existsSync(REFERENCE_DATA) ? false : 'reference data absent' },
  async () => {
    const project = makeProject({ input: path.join(REFERENCE_DATA, 'practicedata') });
    const result = await runIngestion(project.config);
    assert.equal(result.rows_read, 36);
    assert.equal(result.rows_kept, 26);
    assert.equal(result.duplicates_dropped, 10);
  },
);

test('the ingestion record names every file with size, SHA-256 and row counts', async () => {
  const project = makeProject();
  await runIngestion(project.config);
  const record = JSON.parse(fs.readFileSync(path.join(project.config.output_folder_path, 'ingestionrecord.json'), 'utf8'));
  assert.equal(record.files.length, 2);
  for (const file of record.files) {
    const bytes = fs.readFileSync(path.join(project.input, file.name));
    assert.equal(file.size, bytes.length);
    assert.match(file.sha256, /^[0-9a-f]{64}$/);
    assert.ok(file.rows_read >= file.rows_kept);
  }
  assert.equal(record.totals.rows_read, record.files[0].rows_read + record.files[1].rows_read);
  assert.equal(record.totals.rows_kept + record.totals.duplicates_dropped, record.totals.rows_read);
});

const HEADER = 'corporation,lastmonth_activity,lastyear_activity,number_of_employees,exited';

const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');

/** Bad files: [case, file content, expected message pattern, line, column]. */
const BAD: [string, string | Buffer, RegExp, number | undefined, string | undefined][] = [
  [
    'missing required column',
    'corporation,lastmonth_activity,lastyear_activity,exited\nabcd,1,2,0\n',
    /missing required column "number_of_employees"/,
    1,
    'number_of_employees',
  ],
  ['non-numeric feature', `${HEADER}\nabcd,1,2,3,0\nefgh,twelve,2,3,1\n`, /"twelve" is not a finite number/, 3, 'lastmonth_activity'],
  ['Infinity feature', `${HEADER}\nabcd,1,Infinity,3,0\n`, /"Infinity" is not a finite number/, 2, 'lastyear_activity'],
  ['NaN spelled out', `${HEADER}\nabcd,1,2,NaN,0\n`, /"NaN" is not a finite number/, 2, 'number_of_employees'],
  ['hex number', `${HEADER}\nabcd,0x10,2,3,0\n`, /"0x10" is not a finite number/, 2, 'lastmonth_activity'],
  ['a no-break space before a number', `${HEADER}\nabcd,1,\u00a02,3,0\n`, /is not a finite number/, 2, 'lastyear_activity'],
  ['target 2', `${HEADER}\nabcd,1,2,3,2\n`, /target must be 0 or 1, found "2"/, 2, 'exited'],
  ['empty target', `${HEADER}\nabcd,1,2,3,\n`, /target must be 0 or 1, found an empty cell/, 2, 'exited'],
  ['ragged row', `${HEADER}\nabcd,1,2,3,0\nabcd,1,2,0\n`, /expected 5 fields as in the header, found 4/, 3, undefined],
  ['unterminated quote', `${HEADER}\nabcd,1,2,3,0\n"abcd,1,2,3,0\n`, /unterminated quoted field/, 3, undefined],
  ['a CR inside a plain line', `${HEADER}\nabcd,1,2,3,0\nab\rc,1,2,3,0\n`, /a CR outside quotes/, 3, undefined],
  ['a CR inside a plain line of a CRLF file', `${HEADER}\r\nabcd,1,2,3,0\r\nab\rc,1,2,3,0\r\n`, /a CR outside quotes/, 3, undefined],
  [
    'duplicate column name',
    'corporation,lastmonth_activity,lastmonth_activity,lastyear_activity,number_of_employees,exited\na,1,1,2,3,0\n',
    /duplicate column name/,
    1,
    'lastmonth_activity',
  ],
  // Bytes that are not UTF-8 are never replaced: Soci\xe9t\xe9 and Soci\xe8t\xe8 would both become Soci\ufffdt\ufffd.
  [
    'Latin-1 bytes in a row',
    latin1(`${HEADER}\nSoci\xe9t\xe9,1,2,3,0\nSoci\xe8t\xe8,1,2,3,0\n`),
    /not valid UTF-8 \(0xE9, byte 5 of the line\)/,
    2,
    undefined,
  ],
  [
    'Latin-1 bytes in the header',
    latin1(`corpora\xe7ion,lastmonth_activity,lastyear_activity,number_of_employees,exited\na,1,2,3,0\n`),
    /not valid UTF-8/,
    1,
    undefined,
  ],
  [
    'a multi-byte character cut at the end',
    Buffer.concat([Buffer.from(`${HEADER}\nabcd,1,2,3,0\n`), Buffer.from([0xc3])]),
    /not valid UTF-8 \(0xC3/,
    3,
    undefined,
  ],
  [
    'an overlong encoding',
    Buffer.concat([Buffer.from(`${HEADER}\n`), Buffer.from([0xc0, 0xaf]), Buffer.from(',1,2,3,0\n')]),
    /not valid UTF-8/,
    2,
    undefined,
  ],
  [
    'lone CR line endings (classic Mac OS)',
    `${HEADER}\rabcd,1,2,3,0\refgh,4,5,6,1\r`,
    /lone CR \(classic Mac OS line endings\)/,
    1,
    undefined,
  ],
  ['lone CR line endings, no CR at the end', `${HEADER}\rabcd,1,2,3,0`, /lone CR/, 1, undefined],
];

for (const [name, content, message, line, column] of BAD) {
  test(`bad input stops ingestion, outputs untouched: ${name}`, async () => {
    const project = makeProject();
    await runIngestion(project.config);
    const before = snapshot(project.config.output_folder_path);
    const inputBefore = snapshot(project.input);
    fs.writeFileSync(path.join(project.input, 'zz-bad.csv'), content);
    await assert.rejects(runIngestion(project.config), (error: unknown) => {
      assert.ok(error instanceof DataError, `DataError expected, got ${String(error)}`);
      assert.equal(error.exitCode, 2);
      assert.equal(error.file, 'zz-bad.csv');
      assert.equal(error.line, line);
      assert.equal(error.column, column);
      assert.match(error.message, message);
      assert.ok(error.message.startsWith('zz-bad.csv'), error.message);
      return true;
    });
    assert.deepEqual(snapshot(project.config.output_folder_path), before);
    assert.deepEqual(snapshot(project.input), { ...inputBefore, 'zz-bad.csv': content.toString() });
  });
}

/** Valid odd files: [case, content, rows read, rows kept]. */
const ODD: [string, string | Buffer, number, number][] = [
  ['UTF-8 BOM', `\uFEFF${HEADER}\nabcd,1,2,3,0\n`, 1, 1],
  ['CRLF line ends', `${HEADER}\r\nabcd,1,2,3,0\r\nefgh,4,5,6,1\r\n`, 2, 2],
  ['no trailing newline', `${HEADER}\nabcd,1,2,3,0\nefgh,4,5,6,1`, 2, 2],
  ['quoted fields with commas and quotes', `${HEADER}\n"ab,cd",1,2,3,0\n"say ""x""",4,5,6,1\n`, 2, 2],
  ['missing feature cells', `${HEADER}\nabcd,,2,3,0\nefgh,4,,,1\n`, 2, 2],
  ['duplicates inside one file', `${HEADER}\nabcd,1,2,3,0\nabcd,1,2,3,0\nabcd,1,2,3,1\n`, 3, 2],
  ['same values written differently (1 and 1.0)', `${HEADER}\nabcd,1,2,3,0\nabcd,1.0,2,3,0\n`, 2, 1],
  // Columns the model does not use compare as written (pandas would read an all-digit id column as
  // integers and call 007 and 7 the same client): the id and extra columns are text.
  ['ids 007 and 7 are different clients', `${HEADER}\n007,1,2,3,0\n7,1,2,3,0\n`, 2, 2],
  ['an extra column compares as written (1 and 1.0 are two values)', `${HEADER},tier\nabcd,1,2,3,0,1\nabcd,1,2,3,0,1.0\n`, 2, 2],
  [
    'columns in another order plus an extra column',
    'exited,number_of_employees,note,lastyear_activity,lastmonth_activity,corporation\n0,3,hello,2,1,abcd\n',
    1,
    1,
  ],
  ['header only', `${HEADER}\n`, 0, 0],
  ['empty file', '', 0, 0],
];

for (const [name, content, read, kept] of ODD) {
  test(`valid input is read: ${name}`, async () => {
    const project = makeProject();
    for (const file of fs.readdirSync(project.input)) fs.rmSync(path.join(project.input, file));
    fs.writeFileSync(path.join(project.input, 'only.csv'), content);
    const result = await runIngestion(project.config);
    assert.equal(result.rows_read, read);
    assert.equal(result.rows_kept, kept);
    if (read === 0) assert.match(result.files[0].note ?? '', content === '' ? /empty file/ : /header only/);
  });
}

test('an extra column is kept in finaldata.csv and rows of files without it get an empty cell', async () => {
  const project = makeProject();
  for (const file of fs.readdirSync(project.input)) fs.rmSync(path.join(project.input, file));
  fs.writeFileSync(path.join(project.input, 'a.csv'), `${HEADER}\nabcd,1,2,3,0\n`);
  fs.writeFileSync(path.join(project.input, 'b.csv'), `${HEADER},region\nefgh,4,5,6,1,"north, east"\n`);
  const result = await runIngestion(project.config);
  assert.deepEqual(result.columns, [...HEADER.split(','), 'region']);
  assert.equal(fs.readFileSync(result.output_file, 'utf8'), `${HEADER},region\nabcd,1,2,3,0,\nefgh,4,5,6,1,"north, east"\n`);
});

test('non-CSV files, hidden files and sub-folders are ignored; files are read in name order', async () => {
  const project = makeProject();
  for (const file of fs.readdirSync(project.input)) fs.rmSync(path.join(project.input, file));
  fs.writeFileSync(path.join(project.input, 'b.csv'), `${HEADER}\nbbbb,1,2,3,0\n`);
  fs.writeFileSync(path.join(project.input, 'a.csv'), `${HEADER}\naaaa,1,2,3,0\n`);
  fs.writeFileSync(path.join(project.input, 'notes.txt'), 'not data');
  fs.writeFileSync(path.join(project.input, '.partial.csv'), 'garbage,"');
  fs.mkdirSync(path.join(project.input, 'archive.csv'));
  const result = await runIngestion(project.config);
  assert.deepEqual(
    result.files.map((f) => f.name),
    ['a.csv', 'b.csv'],
  );
  assert.equal(fs.readFileSync(result.output_file, 'utf8'), `${HEADER}\naaaa,1,2,3,0\nbbbb,1,2,3,0\n`);
});

test('an input folder without CSV files is an error (exit 2)', async () => {
  const project = makeProject();
  for (const file of fs.readdirSync(project.input)) fs.rmSync(path.join(project.input, file));
  fs.writeFileSync(path.join(project.input, 'readme.txt'), 'x');
  await assert.rejects(
    runIngestion(project.config),
    (error: unknown) => error instanceof UserError && error.exitCode === 2 && /no \*\.csv file in input folder/.test(error.message),
  );
});

test('source files are never modified, moved or deleted', async () => {
  const project = makeProject();
  const before = snapshot(project.input);
  const stats = fs.readdirSync(project.input).map((name) => fs.statSync(path.join(project.input, name)).mtimeMs);
  await runIngestion(project.config);
  assert.deepEqual(snapshot(project.input), before);
  assert.deepEqual(
    fs.readdirSync(project.input).map((name) => fs.statSync(path.join(project.input, name)).mtimeMs),
    stats,
  );
});

test('rows beyond one lookup batch: every repeat dropped, first ones kept in order, CRLF written as LF', async () => {
  const project = makeProject();
  for (const file of fs.readdirSync(project.input)) fs.rmSync(path.join(project.input, file));
  // 3,001 distinct rows in each file, each some 3 times; the second file shares half of them.
  const row = (k: number): string => `c${k},${k % 13},${k % 17},,${k % 2}`;
  const rows = (offset: number): string[] => Array.from({ length: 10_000 }, (_, i) => row(((i * 7) % 3001) + offset));
  fs.writeFileSync(path.join(project.input, 'a.csv'), `${HEADER}\n${rows(0).join('\n')}\n`);
  fs.writeFileSync(path.join(project.input, 'b.csv'), `${HEADER}\r\n${rows(1500).join('\r\n')}\r\n`);
  const result = await runIngestion(project.config);
  const kept = [...new Set([...rows(0), ...rows(1500)])];
  assert.equal(result.rows_read, 20_000);
  assert.deepEqual(
    result.files.map((file) => file.rows_kept),
    [3001, 1500],
  );
  assert.equal(kept.length, 4501);
  assert.equal(fs.readFileSync(result.output_file, 'utf8'), `${HEADER}\n${kept.join('\n')}\n`);
});
