/**
 * The rules of a fullprocess tick, as one pure function. A tick observes step
 * by step (the input folder, then drift, then the retrained candidate's score)
 * and after each observation asks `decideTick` what comes next; the real tick
 * and `--dry-run` follow the same answers and differ only in where they write
 * and whether they deploy.
 *
 *   nothing deployed:   files ready -> bootstrap -> deploy ("bootstrapped")
 *                       none        -> "no-new-data"
 *   deployed:           no new file -> "no-new-data" (refreshing outputs a killed tick left stale)
 *                       new files   -> check drift
 *   drift checked:      no trigger  -> "no-drift"
 *                       trigger     -> retrain
 *   candidate scored:   gate on and candidate below deployed -> "rejected"
 *                       otherwise                           -> deploy ("redeployed")
 *
 * Every tick that ingested new data refreshes the diagnostics and the report
 * (with the call list), so they always describe the newest data; a deploy
 * refreshes them after the switch.
 */
import { formatScore } from '../wording.js';
import type { ModelDrift, Outcome } from '../store/run-history.js';

/** Outputs that describe the deployed model and the newest data. */
export type OutputName = 'diagnostics' | 'report';

/** Every output, in the order they are refreshed (the report reads the diagnostics). */
export const OUTPUTS: readonly OutputName[] = ['diagnostics', 'report'];

/** What a tick has seen so far; each step adds to it. */
export interface TickObservation {
  /** Version current when the tick started; null when nothing is deployed. */
  deployedVersion: number | null;
  /** *.csv files of the input folder that are not still being written. */
  readyFiles: number;
  /** Files modified too recently: left for the next tick. */
  settlingFiles: number;
  /** Ready files new to the deployed model and to earlier ticks. */
  newFiles: number;
  /** Outputs missing or older than the last switch or the newest data (a tick killed before refreshing them). */
  staleOutputs: OutputName[];
  /** After the drift check: the model-drift decision and the features whose data drifted. */
  drift?: { model: ModelDrift; driftedFeatures: string[] };
  /** After a bootstrap fit: the first model's F1 on the test data. */
  bootstrapF1?: number;
  /** After retraining: the candidate's and the deployed model's F1 on the same test data. */
  gate?: { candidateF1: number; deployedF1: number };
}

/** The configured rules a tick applies. */
export interface TickRules {
  /** Refuse a candidate that scores below the deployed model (automation.gate). */
  gate: boolean;
  /** Data drift alone triggers a retrain (drift.data_drift_trigger). */
  dataDriftTrigger: boolean;
  /** automation.settle_seconds, for the wording of a waiting tick. */
  settleSeconds: number;
}

/** What the tick does next. */
export type TickStep =
  | { kind: 'bootstrap' }
  | { kind: 'check-drift' }
  | { kind: 'retrain'; reason: string }
  | { kind: 'deploy'; outcome: 'bootstrapped' | 'redeployed'; reason: string }
  | {
      kind: 'finish';
      outcome: Extract<Outcome, 'no-new-data' | 'no-drift' | 'rejected'>;
      decision: string;
      /** Outputs to refresh before the tick ends. */
      refresh: OutputName[];
    };

/** Decides the next step of a tick from what it observed. Pure. */
export function decideTick(seen: TickObservation, rules: TickRules): TickStep {
  if (seen.deployedVersion === null) {
    if (seen.bootstrapF1 !== undefined) {
      const reason = `no model was deployed: trained on ${seen.readyFiles} file(s), test F1 ${formatScore(seen.bootstrapF1)}`;
      return { kind: 'deploy', outcome: 'bootstrapped', reason };
    }
    if (seen.readyFiles > 0) return { kind: 'bootstrap' };
    const decision =
      seen.settlingFiles > 0
        ? `nothing is deployed yet and every *.csv file was modified in the last ${rules.settleSeconds} s ` +
          '(automation.settle_seconds); the next tick bootstraps from them'
        : 'nothing is deployed and the input folder has no *.csv file to bootstrap from';
    return { kind: 'finish', outcome: 'no-new-data', decision, refresh: [] };
  }
  if (seen.newFiles === 0) {
    const stale = OUTPUTS.filter((output) => seen.staleOutputs.includes(output));
    const repair = stale.length > 0 ? `; refreshed the ${stale.join(' and ')} an earlier tick left out of date` : '';
    return { kind: 'finish', outcome: 'no-new-data', decision: `no new or changed file in the input folder${repair}`, refresh: stale };
  }
  if (!seen.drift) return { kind: 'check-drift' };

  const { model, driftedFeatures } = seen.drift;
  const dataTriggered = rules.dataDriftTrigger && driftedFeatures.length > 0;
  if (!model.drifted && !dataTriggered) {
    const dataNote = driftedFeatures.length > 0 ? `; data drift in ${driftedFeatures.join(', ')} (not a trigger)` : '';
    const decision = `no model drift (${model.rule}): ${model.explanation}${dataNote}`;
    return { kind: 'finish', outcome: 'no-drift', decision, refresh: [...OUTPUTS] };
  }
  const reason = model.drifted ? `model drift (${model.rule}): ${model.explanation}` : `data drift in ${driftedFeatures.join(', ')}`;
  if (!seen.gate) return { kind: 'retrain', reason };

  const { candidateF1, deployedF1 } = seen.gate;
  if (rules.gate && candidateF1 < deployedF1) {
    return {
      kind: 'finish',
      outcome: 'rejected',
      decision:
        `${reason}; retrained, but the candidate's test F1 ${formatScore(candidateF1)} is below the deployed model's ` +
        `${formatScore(deployedF1)} on the same test data: kept version ${seen.deployedVersion} (the candidate stays in output_model_path)`,
      refresh: [...OUTPUTS],
    };
  }
  return {
    kind: 'deploy',
    outcome: 'redeployed',
    reason: `${reason}; candidate test F1 ${formatScore(candidateF1)} vs deployed ${formatScore(deployedF1)}`,
  };
}
