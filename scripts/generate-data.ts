/**
 * generate-data: writes the project's own deterministic data sets.
 *
 *   npm run generate-data                      # practicedata/, sourcedata/, testdata/ in the project
 *   npm run generate-data -- --out /tmp/x --only source --rows 100000 --files 10 --drift 1
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { CSV_HEADER, Random, generateFileSet, type FileSetSettings } from '../src/lib/data/generator.js';
import { writeFileAtomic } from '../src/lib/store/files.js';
import { parseScriptArguments } from '../src/lib/cli.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function number(min: number, max: number) {
  return (text: string): number => {
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
      throw new InvalidArgumentError(`expected a number from ${min} to ${max}`);
    }
    return value;
  };
}

const program = new Command('generate-data')
  .description('Write deterministic practice, source (drifted) and test data with the default schema')
  .option('--out <folder>', 'folder that receives practicedata/, sourcedata/ and testdata/', projectRoot)
  .option('--only <set>', 'write one set only: practice, source or test')
  .option('--seed <n>', 'random seed', number(0, 2 ** 32 - 1), 2)
  .option('--files <n>', 'files per practice/source set', number(1, 1000), 2)
  .option('--rows <n>', 'rows per file', number(0, 100_000_000), 300)
  .option('--test-rows <n>', 'rows of testdata.csv', number(1, 100_000_000), 400)
  .option('--duplicate-rate <p>', 'share of rows repeating an earlier row', number(0, 1), 0.05)
  .option('--missing-rate <p>', 'share of feature cells left empty', number(0, 1), 0.01)
  .option('--drift <d>', 'distribution shift of the source data (0 = like practice)', number(0, 5), 1)
  .option('--concept-drift <c>', 'change of the relation to exited in the source data (0 none, 2 reversed)', number(0, 2), 0)
  .option('--test-mix <p>', 'share of test rows drawn from the drifted world', number(0, 1), 0.5)
  .option('--first-index <n>', 'number of the first file name (datasetN.csv)', number(1, 1e9))
  .option('--prefix <name>', 'file name prefix', 'dataset');
if (!parseScriptArguments(program)) process.exit();

const options = program.opts<{
  out: string;
  only?: string;
  seed: number;
  files: number;
  rows: number;
  testRows: number;
  duplicateRate: number;
  missingRate: number;
  drift: number;
  conceptDrift: number;
  testMix: number;
  firstIndex?: number;
  prefix: string;
}>();

if (options.only !== undefined && !['practice', 'source', 'test'].includes(options.only)) {
  console.error(`generate-data: --only must be practice, source or test, not "${options.only}"`);
  process.exit(2);
}

const out = path.resolve(process.env.INIT_CWD ?? process.cwd(), options.out);
const drifted = { drift: options.drift, conceptDrift: options.conceptDrift };
const sets: { name: string; folder: string; firstIndex: number; settings: FileSetSettings; seedOffset: number }[] = [
  {
    name: 'practice',
    folder: 'practicedata',
    firstIndex: options.firstIndex ?? 1,
    seedOffset: 1,
    settings: {
      files: options.files,
      rowsPerFile: options.rows,
      duplicateRate: options.duplicateRate,
      missingRate: options.missingRate,
      worldShare: 0,
      world: drifted,
    },
  },
  {
    name: 'source',
    folder: 'sourcedata',
    firstIndex: options.firstIndex ?? options.files + 1,
    seedOffset: 2,
    settings: {
      files: options.files,
      rowsPerFile: options.rows,
      duplicateRate: options.duplicateRate,
      missingRate: options.missingRate,
      worldShare: 1,
      world: drifted,
    },
  },
  {
    name: 'test',
    folder: 'testdata',
    firstIndex: 0,
    seedOffset: 3,
    settings: { files: 1, rowsPerFile: options.testRows, duplicateRate: 0, missingRate: 0, worldShare: options.testMix, world: drifted },
  },
];

const written: { file: string; rows: number }[] = [];
for (const set of sets) {
  if (options.only !== undefined && options.only !== set.name) continue;
  const folder = path.join(out, set.folder);
  fs.mkdirSync(folder, { recursive: true });
  const random = new Random(options.seed * 7919 + set.seedOffset);
  let index = set.firstIndex;
  for (const lines of generateFileSet(random, set.settings)) {
    const file = path.join(folder, set.name === 'test' ? 'testdata.csv' : `${options.prefix}${index++}.csv`);
    writeFileAtomic(
      file,
      (function* () {
        yield CSV_HEADER + '\n';
        for (let start = 0; start < lines.length; start += 50_000) yield lines.slice(start, start + 50_000).join('\n') + '\n';
      })(),
    );
    written.push({ file, rows: lines.length });
  }
}
process.stdout.write(JSON.stringify({ written }, null, 2) + '\n');
