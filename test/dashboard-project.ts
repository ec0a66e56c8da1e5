/**
 * A project for the dashboard tests, driven through the steps an engineer
 * sees: bootstrap, a redeploy on drifted data, a failed tick on a bad file.
 * Data from the project's generator (as in fullprocess.test.ts):
 *   practice  --only practice --seed 2 --rows 300 --files 2
 *   test      --only test --seed 2 --test-rows 400
 *   drift     --only source --seed 4 --rows 300 --files 1 --first-index 4 --drift 1
 * v1 scores 0.30 on dataset4.csv against its 0.64 (model drift; every feature's
 * data drifts too), and the candidate (0.78) is deployed as v2.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { runFullprocess, type TickResult } from '../src/fullprocess.js';
import { makeProject, REPO, tempFolder, type TempProject } from './helpers.js';

/** The drifted file of the redeploy step. */
export const DRIFTED_FILE = 'dataset4.csv';
/** The bad file of the failed step, and the words its failure names. */
export const BAD_FILE = 'dataset9.csv';

/** A project and the steps that move it on. */
export interface DashboardProject extends TempProject {
  bootstrap(): Promise<TickResult>;
  redeploy(): Promise<TickResult>;
  fail(): Promise<TickResult>;
  /** A tick with nothing new. */
  idle(): Promise<TickResult>;
}

/** Generated data, once per process. */
let data: string | undefined;

function generated(): string {
  if (data) return data;
  const out = tempFolder('risk-dashboard-data-');
  for (const args of [
    '--only practice --seed 2 --rows 300 --files 2',
    '--only test --seed 2 --test-rows 400',
    '--only source --seed 4 --rows 300 --files 1 --first-index 4 --drift 1',
  ])
    execFileSync(process.execPath, [path.join(REPO, 'dist', 'scripts', 'generate-data.js'), '--out', out, ...args.split(' ')], {
      stdio: 'pipe',
    });
  data = out;
  return out;
}

/** A fresh project (nothing deployed); `extra` config keys as makeProject takes them. */
export function dashboardProject(extra: Record<string, unknown> = {}): DashboardProject {
  const source = generated();
  const project = makeProject({
    input: path.join(source, 'practicedata'),
    testData: path.join(source, 'testdata'),
    extra: { ...extra, automation: { settle_seconds: 0 }, diagnostics: { outdated_timeout_ms: 100 } },
  });
  const tick = (): Promise<TickResult> => runFullprocess(project.config);
  return {
    ...project,
    bootstrap: tick,
    idle: tick,
    redeploy: () => {
      fs.copyFileSync(path.join(source, 'sourcedata', DRIFTED_FILE), path.join(project.input, DRIFTED_FILE));
      return tick();
    },
    fail: () => {
      fs.writeFileSync(
        path.join(project.input, BAD_FILE),
        'corporation,lastmonth_activity,lastyear_activity,number_of_employees,exited\nabcd,twelve,1200,40,0\n',
      );
      return tick();
    },
  };
}
