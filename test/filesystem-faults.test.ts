/**
 * File-system faults on an input or output: a link loop, an unreadable file or
 * folder, an output path under a regular file, an output folder inside the
 * input folder. Each is exit 2 with one message naming the path, never a
 * stack trace, and nothing already written changes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { REPO, makeProject, runtimeFor, snapshot, type TempProject } from './helpers.js';

const asRoot = process.getuid?.() === 0;
const NOBODY = 65534;

interface Fault {
  name: string;
  stage: string;
  /** Changes the project; returns the path the message must name. */
  arrange: (project: TempProject) => string;
  message: RegExp;
  /** Run as an unprivileged user (root reads anything). */
  unprivileged?: boolean;
}

/** Lets an unprivileged user use the whole project (the faults are then set up on purpose). */
function openUp(folder: string): void {
  fs.chmodSync(folder, 0o777);
  for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
    const full = path.join(folder, entry.name);
    if (entry.isSymbolicLink()) continue;
    if (entry.isDirectory()) openUp(full);
    else fs.chmodSync(full, 0o666);
  }
}

const FAULTS: Fault[] = [
  {
    name: 'a symlink loop named like a CSV file in the input folder',
    stage: 'ingestion',
    arrange: (p) => {
      const link = path.join(p.input, 'loop.csv');
      fs.symlinkSync('loop.csv', link);
      return link;
    },
    message: /cannot read .*loop\.csv: too many levels of symbolic links.*\(ELOOP\)/,
  },
  {
    name: 'an unreadable input file',
    stage: 'ingestion',
    unprivileged: true,
    arrange: (p) => {
      const file = path.join(p.input, 'dataset1.csv');
      fs.chmodSync(file, 0o000);
      return file;
    },
    message: /cannot open .*dataset1\.csv: permission denied \(EACCES\)/,
  },
  {
    name: 'an unreadable input folder',
    stage: 'ingestion',
    unprivileged: true,
    arrange: (p) => {
      fs.chmodSync(p.input, 0o000);
      return p.input;
    },
    message: /cannot read input folder .*input: EACCES/,
  },
  {
    name: 'an output folder that cannot be written',
    stage: 'training',
    unprivileged: true,
    arrange: (p) => {
      fs.mkdirSync(p.config.output_model_path, { recursive: true });
      fs.chmodSync(p.config.output_model_path, 0o555);
      return p.config.output_model_path;
    },
    message: /cannot (open|create the folder|write) .*models.*permission denied \(EACCES\)/,
  },
  {
    name: 'an output path under a regular file',
    stage: 'ingestion',
    arrange: (p) => {
      fs.writeFileSync(path.join(p.root, 'blocker'), 'a file, not a folder\n');
      rewriteConfig(p, { output_folder_path: 'blocker/ingesteddata' });
      return path.join(p.root, 'blocker', 'ingesteddata');
    },
    message: /output_folder_path: cannot use .*blocker\/ingesteddata: a part of the path is not a folder \(ENOTDIR\)/,
  },
  {
    name: 'an output folder equal to the input folder',
    stage: 'ingestion',
    arrange: (p) => {
      rewriteConfig(p, { output_folder_path: 'input' });
      return p.input;
    },
    message: /output_folder_path: .*input is the input folder or inside it/,
  },
  {
    name: 'an output folder inside the input folder, through a link',
    stage: 'ingestion',
    arrange: (p) => {
      fs.symlinkSync(p.input, path.join(p.root, 'alias'));
      rewriteConfig(p, { output_model_path: 'alias/models' });
      return path.join(p.root, 'alias', 'models');
    },
    message: /output_model_path: .*alias\/models is the input folder or inside it/,
  },
];

function rewriteConfig(project: TempProject, changes: Record<string, unknown>): void {
  const raw = JSON.parse(fs.readFileSync(project.configFile, 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(project.configFile, JSON.stringify({ ...raw, ...changes }, null, 2));
}

for (const fault of FAULTS) {
  // The unprivileged user runs the stages from where it can read them (a copy when the checkout is private).
  const runtime = fault.unprivileged && asRoot ? runtimeFor(NOBODY) : { root: REPO };
  const skip = fault.unprivileged && !asRoot ? 'needs root to run the stage as an unprivileged user' : 'skip' in runtime && runtime.skip;
  const root = 'root' in runtime ? runtime.root : REPO;
  test(`file-system fault, exit 2 naming the path: ${fault.name}`, { skip }, () => {
    const project = makeProject();
    // Earlier outputs that must survive the failed stage.
    spawnSync(process.execPath, [path.join(REPO, 'dist', 'src', 'ingestion.js'), '--config', project.configFile], { stdio: 'ignore' });
    const expectedPath = fault.arrange(project);
    if (fault.unprivileged) openUpExcept(project, expectedPath);
    const before = snapshot(path.join(project.root, 'ingesteddata'));
    const result = spawnSync(process.execPath, [path.join(root, 'dist', 'src', `${fault.stage}.js`), '--config', project.configFile], {
      encoding: 'utf8',
      env: { ...process.env, LOG_FORMAT: 'json' },
      ...(fault.unprivileged ? { uid: NOBODY, gid: NOBODY } : {}),
    });
    assert.equal(result.status, 2, `exit code (stderr: ${result.stderr})`);
    const answer = JSON.parse(result.stdout) as { error: string; exit_code: number };
    assert.match(answer.error, fault.message);
    assert.ok(answer.error.includes(expectedPath), `the message names ${expectedPath}: ${answer.error}`);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    assert.deepEqual(snapshot(path.join(project.root, 'ingesteddata')), before, 'earlier outputs untouched');
  });
}

/** Opens the project to an unprivileged user but keeps the fault's own path as arranged. */
function openUpExcept(project: TempProject, faultPath: string): void {
  const mode = fs.statSync(faultPath).mode & 0o777;
  openUp(project.root);
  fs.chmodSync(faultPath, mode);
}
