/** The rules of a tick as a table: what comes next for every kind of observation. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ModelDrift } from '../src/lib/store/run-history.js';
import { decideTick, type TickObservation, type TickRules, type TickStep } from '../src/lib/automation/tick-decision.js';

const RULES: TickRules = { gate: true, dataDriftTrigger: false, settleSeconds: 5 };

function drift(drifted: boolean): ModelDrift {
  return {
    rule: 'raw',
    new_f1: drifted ? 0.3 : 0.8,
    deployed_f1: 0.6,
    history: [0.6],
    threshold: 0.6,
    drifted,
    explanation: drifted ? 'new F1 0.3000 < deployed F1 0.6000' : 'new F1 0.8000 >= deployed F1 0.6000',
  };
}

const deployed: TickObservation = { deployedVersion: 3, readyFiles: 4, settlingFiles: 0, newFiles: 1, staleOutputs: [] };

const CASES: {
  name: string;
  seen: TickObservation;
  rules?: Partial<TickRules>;
  expect: Partial<TickStep> & { kind: TickStep['kind'] };
  decision?: RegExp;
}[] = [
  {
    name: 'nothing deployed, files ready: bootstrap',
    seen: { deployedVersion: null, readyFiles: 2, settlingFiles: 0, newFiles: 2, staleOutputs: [] },
    expect: { kind: 'bootstrap' },
  },
  {
    name: 'nothing deployed, bootstrap fitted: deploy as bootstrapped',
    seen: { deployedVersion: null, readyFiles: 2, settlingFiles: 0, newFiles: 2, staleOutputs: [], bootstrapF1: 0.61 },
    expect: { kind: 'deploy', outcome: 'bootstrapped' },
  },
  {
    name: 'nothing deployed, every file still being written: wait',
    seen: { deployedVersion: null, readyFiles: 0, settlingFiles: 2, newFiles: 0, staleOutputs: [] },
    expect: { kind: 'finish', outcome: 'no-new-data', refresh: [] },
    decision: /modified in the last 5 s/,
  },
  {
    name: 'nothing deployed, no file at all',
    seen: { deployedVersion: null, readyFiles: 0, settlingFiles: 0, newFiles: 0, staleOutputs: [] },
    expect: { kind: 'finish', outcome: 'no-new-data', refresh: [] },
    decision: /no \*\.csv file/,
  },
  {
    name: 'deployed, nothing new, outputs fresh: idle',
    seen: { ...deployed, newFiles: 0 },
    expect: { kind: 'finish', outcome: 'no-new-data', refresh: [] },
    decision: /^no new or changed file in the input folder$/,
  },
  {
    name: 'deployed, nothing new, a killed tick left the report out of date: repair it',
    seen: { ...deployed, newFiles: 0, staleOutputs: ['report'] },
    expect: { kind: 'finish', outcome: 'no-new-data', refresh: ['report'] },
    decision: /refreshed the report/,
  },
  {
    name: 'deployed, nothing new, both outputs stale: both, diagnostics first',
    seen: { ...deployed, newFiles: 0, staleOutputs: ['report', 'diagnostics'] },
    expect: { kind: 'finish', outcome: 'no-new-data', refresh: ['diagnostics', 'report'] },
  },
  { name: 'deployed, new files: check drift', seen: deployed, expect: { kind: 'check-drift' } },
  {
    name: 'no model drift, no data drift: no-drift, outputs refreshed for the new data',
    seen: { ...deployed, drift: { model: drift(false), driftedFeatures: [] } },
    expect: { kind: 'finish', outcome: 'no-drift', refresh: ['diagnostics', 'report'] },
    decision: /^no model drift \(raw\)/,
  },
  {
    name: 'data drift without the trigger: no-drift, said in the decision',
    seen: { ...deployed, drift: { model: drift(false), driftedFeatures: ['number_of_employees'] } },
    expect: { kind: 'finish', outcome: 'no-drift' },
    decision: /data drift in number_of_employees \(not a trigger\)/,
  },
  {
    name: 'data drift with the trigger on: retrain',
    seen: { ...deployed, drift: { model: drift(false), driftedFeatures: ['number_of_employees'] } },
    rules: { dataDriftTrigger: true },
    expect: { kind: 'retrain', reason: 'data drift in number_of_employees' },
  },
  { name: 'model drift: retrain', seen: { ...deployed, drift: { model: drift(true), driftedFeatures: [] } }, expect: { kind: 'retrain' } },
  {
    name: 'candidate worse, gate on: rejected, outputs refreshed',
    seen: { ...deployed, drift: { model: drift(true), driftedFeatures: [] }, gate: { candidateF1: 0.5, deployedF1: 0.6 } },
    expect: { kind: 'finish', outcome: 'rejected', refresh: ['diagnostics', 'report'] },
    decision: /kept version 3/,
  },
  {
    name: 'candidate worse, gate off: deployed',
    seen: { ...deployed, drift: { model: drift(true), driftedFeatures: [] }, gate: { candidateF1: 0.5, deployedF1: 0.6 } },
    rules: { gate: false },
    expect: { kind: 'deploy', outcome: 'redeployed' },
  },
  {
    name: 'candidate equal: deployed (the gate refuses only worse)',
    seen: { ...deployed, drift: { model: drift(true), driftedFeatures: [] }, gate: { candidateF1: 0.6, deployedF1: 0.6 } },
    expect: { kind: 'deploy', outcome: 'redeployed' },
  },
  {
    name: 'candidate better: deployed',
    seen: { ...deployed, drift: { model: drift(true), driftedFeatures: [] }, gate: { candidateF1: 0.7, deployedF1: 0.6 } },
    expect: { kind: 'deploy', outcome: 'redeployed' },
  },
];

for (const c of CASES) {
  test(`decideTick: ${c.name}`, () => {
    const step = decideTick(c.seen, { ...RULES, ...c.rules });
    for (const [key, value] of Object.entries(c.expect)) {
      assert.deepEqual((step as Record<string, unknown>)[key], value, `${key} of ${JSON.stringify(step)}`);
    }
    if (c.decision) {
      assert.ok(step.kind === 'finish', 'a decision belongs to a finish');
      assert.match(step.decision, c.decision);
    }
  });
}

test('decideTick is pure: the same observation gives the same step, and the observation is not changed', () => {
  const seen: TickObservation = {
    ...deployed,
    drift: { model: drift(true), driftedFeatures: [] },
    gate: { candidateF1: 0.5, deployedF1: 0.6 },
  };
  const copy = structuredClone(seen);
  assert.deepEqual(decideTick(seen, RULES), decideTick(seen, RULES));
  assert.deepEqual(seen, copy);
});
