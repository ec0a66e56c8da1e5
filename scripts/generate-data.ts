/**
 * generate-data: writes the project's own deterministic data sets.
 *
 *   npm run generate-data                      # practicedata/, sourcedata/, testdata/ in the project
 *   npm run generate-data -- --out /tmp/x --only source --rows 100000 --files 10 --drift 1
 *   npm run generate-data -- --out /tmp/x --categories --labelled-target --category-drift 1
 *   npm run generate-data -- --example examples/churn   # the churn example's data (its config.json is kept)
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { Random, csvHeader, generateFileSet, type FileSetSettings } from '../src/lib/data/generator.js';
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
  .option('--prefix <name>', 'file name prefix', 'dataset')
  .option('--categories', 'add the categorical columns (region, contract, support_plan, payment_method, industry)')
  .option('--category-drift <d>', 'shift of the level shares in the source data (0 none, 2 fully drifted)', number(0, 5), 1)
  .option('--labelled-target', 'the target as churned no/yes instead of exited 0/1')
  .option('--id-prefix <text>', 'distinct client ids <text><n> instead of four random letters')
  .option('--example <folder>', 'write the churn example (incoming/, later/, testdata/) into this folder; other options are ignored');
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
  categories?: boolean;
  categoryDrift: number;
  labelledTarget?: boolean;
  idPrefix?: string;
  example?: string;
}>();

if (options.only !== undefined && !['practice', 'source', 'test'].includes(options.only)) {
  console.error(`generate-data: --only must be practice, source or test, not "${options.only}"`);
  process.exit(2);
}

interface SetPlan {
  name: string;
  folder: string;
  firstIndex: number;
  settings: FileSetSettings;
  seedOffset: number;
  /** File names (default: <prefix><n>.csv, testdata.csv for the test set). */
  prefix?: string;
}

const out = path.resolve(process.env.INIT_CWD ?? process.cwd(), options.example ?? options.out);
const drifted = {
  drift: options.drift,
  conceptDrift: options.conceptDrift,
  ...(options.categories ? { categoryDrift: options.categoryDrift } : {}),
};
const columns = { categories: options.categories, labelledTarget: options.labelledTarget, idPrefix: options.idPrefix };
const sets: SetPlan[] =
  options.example !== undefined
    ? churnExample()
    : [
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
            ...columns,
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
            ...columns,
          },
        },
        {
          name: 'test',
          folder: 'testdata',
          firstIndex: 0,
          seedOffset: 3,
          settings: {
            files: 1,
            rowsPerFile: options.testRows,
            duplicateRate: 0,
            missingRate: 0,
            worldShare: options.testMix,
            world: drifted,
            ...columns,
          },
        },
      ];

/**
 * The churn example: categorical columns, the labelled target `churned`, missing
 * numeric and categorical cells, distinct ids. Two input files of the undrifted
 * world, a third file drifted on the categories only (the loop sees it when it is
 * copied into incoming/), and a test set that spans both worlds.
 */
function churnExample(): SetPlan[] {
  const categoryDrifted = { drift: 0, conceptDrift: 0, categoryDrift: 2 };
  const common = { categories: true, labelledTarget: true, duplicateRate: 0, missingRate: 0.02, world: categoryDrifted };
  return [
    {
      name: 'incoming',
      folder: 'incoming',
      prefix: 'clients',
      firstIndex: 1,
      seedOffset: 11,
      settings: { ...common, files: 2, rowsPerFile: 1500, worldShare: 0, idPrefix: 'C' },
    },
    {
      name: 'later',
      folder: 'later',
      prefix: 'clients',
      firstIndex: 3,
      seedOffset: 12,
      settings: { ...common, files: 1, rowsPerFile: 1500, worldShare: 1, idPrefix: 'L' },
    },
    {
      name: 'test',
      folder: 'testdata',
      firstIndex: 0,
      seedOffset: 13,
      settings: { ...common, files: 1, rowsPerFile: 1000, worldShare: 0.5, idPrefix: 'T' },
    },
  ];
}

const written: { file: string; rows: number }[] = [];
for (const set of sets) {
  if (options.example === undefined && options.only !== undefined && options.only !== set.name) continue;
  const folder = path.join(out, set.folder);
  fs.mkdirSync(folder, { recursive: true });
  const random = new Random(options.seed * 7919 + set.seedOffset);
  let index = set.firstIndex;
  for (const lines of generateFileSet(random, set.settings)) {
    const file = path.join(folder, set.name === 'test' ? 'testdata.csv' : `${set.prefix ?? options.prefix}${index++}.csv`);
    writeFileAtomic(
      file,
      (function* () {
        yield csvHeader(set.settings) + '\n';
        for (let start = 0; start < lines.length; start += 50_000) yield lines.slice(start, start + 50_000).join('\n') + '\n';
      })(),
    );
    written.push({ file, rows: lines.length });
  }
}
process.stdout.write(JSON.stringify({ written }, null, 2) + '\n');
