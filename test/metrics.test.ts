/**
 * Classification metrics (src/lib/model/metrics.ts), one test per function.
 * Expected values come from scikit-learn 1.2 (Debian python3-sklearn); each is
 * written under the Python line that made it, with
 *   from sklearn import metrics as m
 *   y = [0, 1, 1, 0, 1, 0, 0, 1, 1, 0]
 *   p = [0.1, 0.9, 0.4, 0.4, 0.8, 0.6, 0.2, 0.4, 1.0, 0.0]
 *   yhat = [1 if v > 0.5 else 0 for v in p]
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { computeMetrics, confusionMatrix, f1Score, logLoss, rocAuc, rocCurve } from '../src/lib/model/metrics.js';
import { assertClose } from './helpers.js';

const TOLERANCE = 1e-12;
const Y = [0, 1, 1, 0, 1, 0, 0, 1, 1, 0];
// Ties (0.4 three times, across both classes) and the two extremes 0 and 1.
const P = [0.1, 0.9, 0.4, 0.4, 0.8, 0.6, 0.2, 0.4, 1.0, 0.0];
const YHAT = P.map((v) => (v > 0.5 ? 1 : 0));

describe('metrics', () => {
  test('confusionMatrix counts [[TN, FP], [FN, TP]]', () => {
    // m.confusion_matrix(y, yhat, labels=[0, 1]).tolist() -> [[4, 1], [2, 3]]
    assert.deepEqual(confusionMatrix(Y, YHAT), [
      [4, 1],
      [2, 3],
    ]);
    assert.deepEqual(confusionMatrix([], []), [
      [0, 0],
      [0, 0],
    ]);
  });

  test('f1Score of the positive class, 0 when undefined', () => {
    // m.f1_score(y, yhat) -> 0.6666666666666665
    assertClose(f1Score(confusionMatrix(Y, YHAT)), 0.6666666666666665, TOLERANCE, 'f1');
    // m.f1_score([0, 0, 1], [0, 0, 0], zero_division=0) -> 0.0
    assert.equal(f1Score(confusionMatrix([0, 0, 1], [0, 0, 0])), 0);
    assert.equal(
      f1Score([
        [5, 0],
        [0, 0],
      ]),
      0,
    );
  });

  test('rocAuc with average ranks for ties, null for one class', () => {
    // m.roc_auc_score(y, p) -> 0.88
    assertClose(rocAuc(Y, P)!, 0.88, TOLERANCE, 'auc');
    // m.roc_auc_score([0, 0, 1, 1], [0.5, 0.5, 0.5, 0.5]) -> 0.5
    assertClose(rocAuc([0, 0, 1, 1], [0.5, 0.5, 0.5, 0.5])!, 0.5, TOLERANCE, 'auc of a constant score');
    // m.roc_auc_score([1, 0, 1, 0], [0.3, 0.3, 0.8, 0.1]) -> 0.875
    assertClose(rocAuc([1, 0, 1, 0], [0.3, 0.3, 0.8, 0.1])!, 0.875, TOLERANCE, 'auc with a tie across classes');
    assert.equal(rocAuc([1, 1], [0.2, 0.9]), null);
    assert.equal(rocAuc([0, 0], [0.2, 0.9]), null);
  });

  test('rocCurve: one point per distinct threshold, from (0, 0) to (1, 1)', () => {
    // fpr, tpr, thr = m.roc_curve(y, p, drop_intermediate=False)
    // fpr -> [0.0, 0.0, 0.0, 0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    // tpr -> [0.0, 0.2, 0.4, 0.6, 0.6, 1.0, 1.0, 1.0, 1.0]
    // thr -> [2.0, 1.0, 0.9, 0.8, 0.6, 0.4, 0.2, 0.1, 0.0] (sklearn 1.2 puts max + 1 first; ours is Infinity)
    const curve = rocCurve(Y, P);
    const fpr = [0, 0, 0, 0, 0.2, 0.4, 0.6, 0.8, 1];
    const tpr = [0, 0.2, 0.4, 0.6, 0.6, 1, 1, 1, 1];
    const thresholds = [Infinity, 1, 0.9, 0.8, 0.6, 0.4, 0.2, 0.1, 0];
    assert.equal(curve.length, fpr.length);
    curve.forEach((point, i) => {
      assertClose(point.fpr, fpr[i], TOLERANCE, `fpr[${i}]`);
      assertClose(point.tpr, tpr[i], TOLERANCE, `tpr[${i}]`);
      assert.equal(point.threshold, thresholds[i], `threshold[${i}]`);
    });
  });

  test('logLoss: mean cross-entropy, probabilities clipped to machine epsilon', () => {
    // m.log_loss(y, p) -> 0.3916705953332529
    assertClose(logLoss(Y, P), 0.3916705953332529, TOLERANCE, 'log-loss');
    // m.log_loss([1, 0], [0.0, 0.5]) -> 18.36840028483855 (a certain miss costs -log(eps), not Infinity)
    assertClose(logLoss([1, 0], [0, 0.5]), 18.36840028483855, 1e-9, 'log-loss of a certain miss');
    // m.log_loss([1, 0, 1], [1.0, 0.0, 0.7]) -> 0.11889164797957763
    assertClose(logLoss([1, 0, 1], [1, 0, 0.7]), 0.11889164797957763, TOLERANCE, 'log-loss of certain hits');
    assert.ok(Number.isNaN(logLoss([], [])));
  });

  test('computeMetrics gathers every metric', () => {
    // m.precision_score(y, yhat) -> 0.75; m.recall_score(y, yhat) -> 0.6; m.accuracy_score(y, yhat) -> 0.7
    const metrics = computeMetrics(Y, YHAT, P);
    assertClose(metrics.f1, 0.6666666666666665, TOLERANCE, 'f1');
    assertClose(metrics.precision, 0.75, TOLERANCE, 'precision');
    assertClose(metrics.recall, 0.6, TOLERANCE, 'recall');
    assertClose(metrics.accuracy, 0.7, TOLERANCE, 'accuracy');
    assertClose(metrics.roc_auc!, 0.88, TOLERANCE, 'roc_auc');
    assertClose(metrics.log_loss, 0.3916705953332529, TOLERANCE, 'log_loss');
    assert.deepEqual(metrics.confusion_matrix, [
      [4, 1],
      [2, 3],
    ]);
    assert.equal(metrics.rows, 10);
    assert.equal(metrics.positives, 5);
  });

  test('computeMetrics: zero division gives 0, as zero_division=0', () => {
    // m.precision_score([0, 0, 1], [0, 0, 0], zero_division=0) -> 0.0
    const metrics = computeMetrics([0, 0, 1], [0, 0, 0], [0.1, 0.2, 0.3]);
    assert.equal(metrics.precision, 0);
    assert.equal(metrics.f1, 0);
    assert.equal(metrics.recall, 0);
    const none = computeMetrics([0, 0], [0, 0], [0.1, 0.2]);
    assert.equal(none.recall, 0);
    assert.equal(none.roc_auc, null);
  });
});
