/**
 * What happened, for page 1: the model's health in one line and the newest
 * tick's decision with its figures, read from the run history. Pure.
 *
 * The newest tick that did something (ingested new data, or failed) decides
 * the health; ticks that found no new data or the lock taken change nothing
 * and are only counted. The figures come from the newest drift check.
 */
import type { RunRecord } from '../store/run-history.js';
import type { Tone } from './pdf.js';

/** The health verdicts of page 1. */
export type Health = 'healthy' | 'retrained' | 'rejected' | 'failing' | 'unchecked' | 'undeployed';

/** The health line and the ticks behind it. */
export interface HealthSummary {
  health: Health;
  tone: Tone;
  /** The newest tick that ingested new data or failed; null without one. */
  newest: RunRecord | null;
  /** The newest tick that checked the deployed model for drift. */
  check: RunRecord | null;
  /** Ticks after `newest` that found no new data (or the lock taken). */
  quiet: { count: number; last: RunRecord | null };
}

const QUIET = new Set(['no-new-data', 'locked']);

/** The health from the run history and whether a model is deployed. */
export function summarizeHealth(runs: RunRecord[], deployed: boolean): HealthSummary {
  let index = runs.length - 1;
  while (index >= 0 && QUIET.has(runs[index].outcome)) index--;
  const newest = index >= 0 ? runs[index] : null;
  const after = runs.slice(index + 1);
  const quiet = { count: after.length, last: after.at(-1) ?? null };
  const check = [...runs].reverse().find((run) => checkFigures(run) !== null) ?? null;
  const verdict = (health: Health, tone: Tone): HealthSummary => ({ health, tone, newest, check, quiet });
  if (!deployed) return verdict('undeployed', 'bad');
  if (!newest) return verdict('unchecked', 'neutral');
  switch (newest.outcome) {
    case 'failed':
      return verdict('failing', 'bad');
    case 'redeployed':
      return verdict('retrained', 'good');
    case 'rejected':
      return verdict('rejected', 'warn');
    default:
      return verdict('healthy', 'good');
  }
}

/** The figures of a drift check: the deployed model's F1 on the new data and when deployed. */
export interface CheckFigures {
  newF1: number;
  deployedF1: number;
  drifted: boolean;
}

/** A tick's drift-check figures, from its model-drift record (or its scores, in older records); null when it checked nothing. */
export function checkFigures(run: RunRecord): CheckFigures | null {
  if (run.model_drift) return { newF1: run.model_drift.new_f1, deployedF1: run.model_drift.deployed_f1, drifted: run.model_drift.drifted };
  const { new_data_f1: newF1, deployed_f1: deployedF1 } = run.scores ?? {};
  if (typeof newF1 !== 'number' || typeof deployedF1 !== 'number') return null;
  return { newF1, deployedF1, drifted: run.outcome === 'redeployed' || run.outcome === 'rejected' };
}
