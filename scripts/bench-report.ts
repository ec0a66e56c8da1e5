/**
 * bench-report: the reporting stage against the length of the cells it shows.
 * Every client id of the practice data is made `--lengths` characters long,
 * the pipeline runs in-process into a temporary folder, and reporting (report,
 * confusion matrix and risk list) is timed per length. Linear work shows as a
 * time that stays nearly flat (the report shows a shortened id); the old text
 * fitting grew with the square of the length.
 *
 *   npm run bench:report
 *   npm run bench:report -- --lengths 1000,10000,20000,100000 --runs 3
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { validateConfig } from '../src/lib/config.js';
import { runDeployment } from '../src/deployment.js';
import { runIngestion } from '../src/ingestion.js';
import { runReporting } from '../src/reporting.js';
import { runScoring } from '../src/scoring.js';
import { runTraining } from '../src/training.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const options = new Command('bench-report')
  .option('--lengths <list>', 'id lengths in characters, comma-separated', '1000,10000,20000')
  .option('--runs <n>', 'reporting runs per length (median reported)', (v) => Number(v), 3)
  .parse()
  .opts<{ lengths: string; runs: number }>();

const lengths = options.lengths.split(',').map(Number);
if (lengths.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--lengths must list positive integers, got ${options.lengths}`);

/** Copies the practice data with every id made `length` characters long (unique: the row number leads). */
function writeLongIds(from: string, to: string, length: number): void {
  fs.mkdirSync(to, { recursive: true });
  let row = 0;
  for (const name of fs.readdirSync(from).filter((n) => n.endsWith('.csv'))) {
    const [header, ...lines] = fs.readFileSync(path.join(from, name), 'utf8').trimEnd().split('\n');
    const rewritten = lines.map((line) => {
      const id = `${row++}-`;
      return id + 'x'.repeat(Math.max(0, length - id.length)) + line.slice(line.indexOf(','));
    });
    fs.writeFileSync(path.join(to, name), [header, ...rewritten].join('\n') + '\n');
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const results: { id_length: number; clients: number; reporting_seconds: number; runs: number[] }[] = [];
for (const length of lengths) {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-report-'));
  try {
    writeLongIds(path.join(root, 'practicedata'), path.join(folder, 'input'), length);
    const raw = {
      input_folder_path: 'input',
      output_folder_path: 'ingesteddata',
      test_data_path: path.join(root, 'testdata'),
      output_model_path: 'models',
      prod_deployment_path: 'production_deployment',
    };
    fs.writeFileSync(path.join(folder, 'config.json'), JSON.stringify(raw));
    const config = validateConfig(raw, path.join(folder, 'config.json'));
    const ingestion = await runIngestion(config);
    await runTraining(config);
    await runScoring(config);
    await runDeployment(config);
    const runs: number[] = [];
    for (let i = 0; i < options.runs; i++) {
      const started = performance.now();
      await runReporting(config, { topClients: 20 });
      runs.push((performance.now() - started) / 1000);
      process.stderr.write(`  ids of ${length} characters, run ${i + 1}: ${runs[i].toFixed(3)} s\n`);
    }
    results.push({ id_length: length, clients: ingestion.rows_kept, reporting_seconds: median(runs), runs });
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
}

console.log('id length  rows  reporting (median)');
for (const r of results)
  console.log(`${String(r.id_length).padStart(9)}  ${String(r.clients).padStart(4)}  ${r.reporting_seconds.toFixed(3)} s`);
console.log(JSON.stringify({ results }, null, 2));
