/**
 * Classification metrics for the positive class 1, as scikit-learn defines
 * them (zero division gives 0, log-loss clips probabilities to [eps, 1 - eps] with eps the float64 machine epsilon, as sklearn 1.2).
 */

/** `[[TN, FP], [FN, TP]]`, as sklearn's confusion_matrix with labels [0, 1]. */
export type ConfusionMatrix = [[number, number], [number, number]];

/** All metrics of a scored model. */
export interface Metrics {
  f1: number;
  precision: number;
  recall: number;
  accuracy: number;
  /** Null when the labels hold only one class (AUC is undefined). */
  roc_auc: number | null;
  log_loss: number;
  confusion_matrix: ConfusionMatrix;
  rows: number;
  positives: number;
}

/** Counts `[[TN, FP], [FN, TP]]`. */
export function confusionMatrix(actual: ArrayLike<number>, predicted: ArrayLike<number>): ConfusionMatrix {
  let tn = 0,
    fp = 0,
    fn = 0,
    tp = 0;
  for (let i = 0; i < actual.length; i++) {
    const hit = predicted[i] === 1;
    if (actual[i] === 1) {
      if (hit) tp++;
      else fn++;
    } else if (hit) fp++;
    else tn++;
  }
  return [
    [tn, fp],
    [fn, tp],
  ];
}

/** F1 of the positive class from a confusion matrix (0 when undefined). */
export function f1Score([[, fp], [fn, tp]]: ConfusionMatrix): number {
  const denominator = 2 * tp + fp + fn;
  return denominator === 0 ? 0 : (2 * tp) / denominator;
}

/**
 * Area under the ROC curve (Mann-Whitney U with average ranks for ties).
 * Null when `actual` holds only one class.
 */
export function rocAuc(actual: ArrayLike<number>, scores: ArrayLike<number>): number | null {
  const n = actual.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    const averageRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (actual[order[k]] === 1) {
        positives++;
        rankSum += averageRank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return null;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Points of the ROC curve (false and true positive rates), one per distinct threshold. */
export function rocCurve(actual: ArrayLike<number>, scores: ArrayLike<number>): { fpr: number; tpr: number; threshold: number }[] {
  const n = actual.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  let positives = 0;
  for (let i = 0; i < n; i++) positives += actual[i] === 1 ? 1 : 0;
  const negatives = n - positives;
  const points = [{ fpr: 0, tpr: 0, threshold: Infinity }];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < n; i++) {
    if (actual[order[i]] === 1) tp++;
    else fp++;
    if (i + 1 === n || scores[order[i + 1]] !== scores[order[i]]) {
      points.push({ fpr: negatives ? fp / negatives : 0, tpr: positives ? tp / positives : 0, threshold: scores[order[i]] });
    }
  }
  return points;
}

/** Mean binary cross-entropy with sklearn's clipping (machine epsilon). */
export function logLoss(actual: ArrayLike<number>, probabilities: ArrayLike<number>): number {
  const eps = Number.EPSILON;
  let sum = 0;
  for (let i = 0; i < actual.length; i++) {
    const p = Math.min(1 - eps, Math.max(eps, probabilities[i]));
    sum -= actual[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return actual.length === 0 ? NaN : sum / actual.length;
}

/** Every metric for labels, 0/1 predictions and probabilities of class 1. */
export function computeMetrics(actual: ArrayLike<number>, predicted: ArrayLike<number>, probabilities: ArrayLike<number>): Metrics {
  const matrix = confusionMatrix(actual, predicted);
  const [[tn, fp], [fn, tp]] = matrix;
  const n = actual.length;
  return {
    f1: f1Score(matrix),
    precision: tp + fp === 0 ? 0 : tp / (tp + fp),
    recall: tp + fn === 0 ? 0 : tp / (tp + fn),
    accuracy: n === 0 ? 0 : (tp + tn) / n,
    roc_auc: rocAuc(actual, probabilities),
    log_loss: logLoss(actual, probabilities),
    confusion_matrix: matrix,
    rows: n,
    positives: tp + fn,
  };
}
