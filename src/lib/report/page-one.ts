/**
 * Page 1 of the report, for the client manager: the health line, the newest
 * tick's decision with its figures, and the head of the call list. Pure.
 */
import path from 'node:path';
import { FILE_NAMES } from '../layout.js';
import { featureLabel, formatMetric, formatPercent, formatTime, outcomeWords, plural, ruleWords } from '../wording.js';
import { type HealthSummary, checkFigures } from './health.js';
import { ID_CHARACTERS, PAGE_ONE_CLIENTS, type ReportInputs, type ScoredClients } from './inputs.js';
import type { Block, TableColumn } from './pdf.js';
import { reasonPhrases } from './risk-list.js';
import { shorten } from './text-fit.js';

/** File names of a tick, at most `max` named. */
function fileList(files: { name: string }[], max = 4): string {
  if (files.length === 0) return 'no files';
  const named = files.slice(0, max).map((f) => shorten(f.name, 60));
  return named.join(', ') + (files.length > max ? ` and ${files.length - max} more` : '');
}

/** The health line: a verdict with its figures. */
function healthBanner(inputs: ReportInputs, summary: HealthSummary): Block {
  const { newest, check } = summary;
  const figures = check ? checkFigures(check) : null;
  const current = inputs.model.deployment?.version ?? null;
  const f2 = (value: number | null | undefined): string =>
    value === null || value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(2);
  const testF1 = f2(inputs.evaluation.metrics.f1);
  let text: string;
  let detail: string;
  switch (summary.health) {
    case 'undeployed':
      text = 'No model is deployed';
      detail = `This report describes ${FILE_NAMES.model} of ${path.basename(path.dirname(inputs.model.file))}, which is not deployed; deploy a model (npm run deployment) or run fullprocess.`;
      break;
    case 'unchecked':
      text = `Not checked for drift yet: version ${current} is deployed`;
      detail = `F1 ${testF1} on the test data. No fullprocess tick has checked new data against it yet.`;
      break;
    case 'failing':
      text = 'Failing: the newest tick failed';
      detail = `${formatTime(newest!.started_at)}: ${shorten(newest!.error ?? 'no error recorded', 300)}. Version ${current} is still served.`;
      break;
    case 'retrained':
      text = `Drift found and retrained: version ${newest!.version_before ?? '?'} replaced by version ${newest!.version_after ?? '?'}`;
      detail = `The deployed model's F1 was ${f2(figures?.newF1)} on the new data against ${f2(figures?.deployedF1)} when deployed; the retrained model scores ${f2(newest!.scores.candidate_f1)} on the test data.`;
      break;
    case 'rejected':
      text = `Drift found but the candidate was rejected: version ${newest!.version_before ?? '?'} stays`;
      detail = `The deployed model's F1 was ${f2(figures?.newF1)} on the new data against ${f2(figures?.deployedF1)} when deployed; the retrained candidate scored ${f2(newest!.scores.candidate_f1)} on the test data, not better than ${f2(newest!.scores.deployed_f1)}. Look at the new data.`;
      break;
    default:
      if (newest!.outcome === 'bootstrapped') {
        text = `Healthy: first model deployed as version ${newest!.version_after ?? '?'}`;
        detail = `F1 ${f2(newest!.scores.candidate_f1)} on the test data.`;
      } else {
        text = `Healthy: version ${newest!.version_before ?? current} holds up on the new data`;
        detail = `F1 ${f2(figures?.newF1)} on the new data against ${f2(figures?.deployedF1)} when deployed; no retraining needed.`;
      }
  }
  if (newest && current !== null && newest.version_after !== null && newest.version_after !== current && summary.health !== 'failing')
    detail += ` Version ${current} is current now (switched after that tick, e.g. by a rollback).`;
  return { kind: 'banner', text, detail, tone: summary.tone };
}

/** The newest tick's decision with its figures, as label/value rows. */
function decisionFacts(summary: HealthSummary): [string, string][] {
  const { newest, check, quiet } = summary;
  const facts: [string, string][] = [];
  if (newest && newest !== check && newest.outcome !== 'bootstrapped') {
    facts.push(['Newest tick', `${formatTime(newest.started_at)} · ${outcomeWords(newest)} · new files: ${fileList(newest.new_files)}`]);
    if (newest.outcome === 'failed') facts.push(['Error', shorten(newest.error ?? 'no error recorded', 400)]);
  }
  const figures = check ? checkFigures(check) : null;
  if (check && figures) {
    facts.push([
      check === newest ? 'Newest tick' : 'Newest drift check',
      `${formatTime(check.started_at)} · ${outcomeWords(check)} · new files: ${fileList(check.new_files)}`,
    ]);
    const verdict = figures.drifted ? 'drift' : 'no drift';
    const newF1 = Number.isFinite(figures.newF1)
      ? formatMetric(figures.newF1)
      : `n/a (${check.model_drift?.explanation ?? 'not measured'})`;
    facts.push([
      'Deployed model',
      `F1 ${newF1} on the new data against ${formatMetric(figures.deployedF1)} when deployed (version ${check.version_before ?? '?'}): ${verdict} (${ruleWords(check)})`,
    ]);
    const candidate = check.scores.candidate_f1;
    const against = `against ${formatMetric(check.scores.deployed_f1)} for the deployed model`;
    facts.push([
      'Retrained candidate',
      check.outcome === 'redeployed'
        ? `F1 ${formatMetric(candidate)} on the test data ${against}: deployed`
        : check.outcome === 'rejected'
          ? `F1 ${formatMetric(candidate)} on the test data ${against}: rejected, not better`
          : candidate === null
            ? `none trained (${verdict})`
            : `F1 ${formatMetric(candidate)} on the test data (${outcomeWords(check)})`,
    ]);
    const before = check.version_before;
    const after = check.version_after;
    facts.push([
      'Model version',
      before !== null && after !== null && before !== after ? `${before} → ${after}` : `${after ?? before ?? '?'}, unchanged`,
    ]);
    const data = check.data_drift;
    const drifted = data ? Object.entries(data).filter(([, d]) => d.drifted) : [];
    facts.push([
      'Features that drifted',
      !data
        ? 'not measured in that tick'
        : drifted.length === 0
          ? `none of the ${plural(Object.keys(data).length, 'feature')} checked`
          : drifted
              .slice(0, 8)
              .map(([feature, d]) => `${shorten(featureLabel(feature), 40)} (PSI ${d.psi.toFixed(2)})`)
              .join(', ') + (drifted.length > 8 ? ` and ${drifted.length - 8} more` : ''),
    ]);
  } else if (newest?.outcome === 'bootstrapped') {
    facts.push(['Newest tick', `${formatTime(newest.started_at)} · ${outcomeWords(newest)} · files: ${fileList(newest.new_files)}`]);
    facts.push(['First model', `F1 ${formatMetric(newest.scores.candidate_f1)} on the test data; no drift check yet`]);
  }
  if (quiet.count > 0 && quiet.last)
    facts.push(['Since then', `${plural(quiet.count, 'tick')} found no new data, the newest at ${formatTime(quiet.last.started_at)}`]);
  return facts;
}

/** Call-list table rows from rank `from` (1-based) to `to`. */
export function callListTable(inputs: ReportInputs, clients: ScoredClients, from: number, to: number, reasonLines: number): Block {
  const { list } = clients;
  const model = inputs.model.model;
  const rows = list.clients
    .slice(from - 1, to)
    .map((client, i) => [
      String(from + i),
      shorten(client.id, ID_CHARACTERS),
      formatPercent(client.probability),
      reasonPhrases(model, list.explain(client)).join('; '),
    ]);
  const columns: TableColumn[] = [
    { header: '#', align: 'right' },
    { header: shorten(featureLabel(list.idColumn), ID_CHARACTERS) },
    { header: 'risk', align: 'right' },
    { header: 'why: what raises the risk most', wrap: reasonLines },
  ];
  return { kind: 'table', columns, rows };
}

function callListLead(inputs: ReportInputs, clients: ScoredClients): string {
  const { list } = clients;
  const file = path.basename(clients.file);
  const left = `${plural(list.left, 'client')} whose newest row has ${inputs.model.model.target} = ${inputs.targetLabels[1]} ${list.left === 1 ? 'has' : 'have'} left and ${list.left === 1 ? 'is' : 'are'} not listed`;
  const unidentified = list.unidentified > 0 ? `; ${plural(list.unidentified, 'row')} without ${list.idColumn} cannot be called` : '';
  return (
    `${plural(list.clients.length, 'client')} of ${file} ${list.clients.length === 1 ? 'is' : 'are'} still with us (each ${list.idColumn} counted once, by its newest row); ${left}${unidentified}. ` +
    `Riskiest first; risk is the predicted probability of leaving. The whole list is in ${FILE_NAMES.riskScores}.`
  );
}

export function pageOne(inputs: ReportInputs, summary: HealthSummary): Block[] {
  const { model, clients } = inputs;
  const version = model.deployment ? `Model version ${model.deployment.version}` : 'Undeployed model';
  const blocks: Block[] = [
    { kind: 'title', text: 'Client attrition risk report', subtitle: `${version} · generated ${formatTime(inputs.generatedAt)}` },
    healthBanner(inputs, summary),
  ];
  const facts = decisionFacts(summary);
  if (facts.length > 0) blocks.push({ kind: 'heading', text: 'What the newest tick decided' }, { kind: 'facts', rows: facts });
  blocks.push({ kind: 'heading', text: 'Whom to call first' });
  if (clients) {
    blocks.push({ kind: 'text', text: callListLead(inputs, clients), size: 8.5, keep: true });
    if (clients.list.clients.length > 0) blocks.push(callListTable(inputs, clients, 1, Math.min(inputs.topClients, PAGE_ONE_CLIENTS), 2));
    const listed = Math.min(inputs.topClients, clients.list.clients.length);
    if (listed > PAGE_ONE_CLIENTS)
      blocks.push({ kind: 'text', text: `Ranks ${PAGE_ONE_CLIENTS + 1} to ${listed} follow on page 2.`, size: 8, color: '#5f6b7a' });
  } else {
    blocks.push({
      kind: 'note',
      text: `No ingested data (${FILE_NAMES.finalData}) could be read, so no client can be ranked; run \`npm run ingestion\`.`,
    });
  }
  if (inputs.notes.length > 0)
    blocks.push({
      kind: 'text',
      text: `${plural(inputs.notes.length, 'record')} ${inputs.notes.length === 1 ? 'was' : 'were'} missing or stale when this report was made; see the notes in the appendix.`,
      size: 8,
      color: '#8a5a00',
    });
  return blocks;
}
