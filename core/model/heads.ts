import * as tf from '@tensorflow/tfjs-core';
import type { TaskKind } from './adapter-config';

/** logits = features · head.weightᵀ + head.bias. */
export function headLogits(features: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(() => tf.add(tf.matMul(features, tf.transpose(weight)), bias) as tf.Tensor2D);
}

/**
 * The training loss, a scalar: the one loss of model, trainer and replicas.
 * Multi-class / ordinal: softmax cross-entropy, labels are class ids [B]; the mean over the batch,
 * or with `classWeights` [C] the weighted mean Σ w_y·nll / Σ w_y (PyTorch's CrossEntropyLoss(weight=…)).
 * Multi-label: sigmoid binary cross-entropy averaged over batch and classes, labels are 0/1 [B, C]
 * (class weights do not apply).
 */
export function taskLoss(task: TaskKind, logits: tf.Tensor2D, labels: tf.Tensor, classWeights?: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const [batch, classes] = logits.shape;
    if (task === 'multilabel') {
      if (labels.shape.join() !== logits.shape.join()) {
        throw new Error(`multi-label targets must be [${batch}, ${classes}], got [${labels.shape.join(', ')}]`);
      }
      const z = tf.cast(labels, 'float32');
      // Stable form: max(x, 0) − x·z + log(1 + e^−|x|).
      const perElement = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, z)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
      return tf.mean(perElement) as tf.Scalar;
    }
    if (labels.rank !== 1 || labels.shape[0] !== batch) {
      throw new Error(`class-id targets must be [${batch}], got [${labels.shape.join(', ')}]`);
    }
    if (classWeights && (classWeights.rank !== 1 || classWeights.shape[0] !== classes)) {
      throw new Error(`class weights must be [${classes}], got [${classWeights.shape.join(', ')}]`);
    }
    const ids = tf.cast(labels, 'int32') as tf.Tensor1D;
    const nll = tf.neg(tf.sum(tf.mul(tf.oneHot(ids, classes), tf.logSoftmax(logits)), 1));
    if (!classWeights) return tf.mean(nll) as tf.Scalar;
    const w = tf.gather(classWeights, ids);
    return tf.div(tf.sum(tf.mul(w, nll)), tf.sum(w)) as tf.Scalar;
  });
}
