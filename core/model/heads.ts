import * as tf from '@tensorflow/tfjs-core';
import type { TaskKind } from './adapter-config';

/** logits = features · head.weightᵀ + head.bias. */
export function headLogits(features: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(() => tf.add(tf.matMul(features, tf.transpose(weight)), bias) as tf.Tensor2D);
}

/**
 * Training loss, a scalar. Multi-class / ordinal: mean softmax cross-entropy, labels are class ids [B].
 * Multi-label: sigmoid binary cross-entropy averaged over batch and classes, labels are 0/1 [B, C].
 */
export function taskLoss(task: TaskKind, logits: tf.Tensor2D, labels: tf.Tensor): tf.Scalar {
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
    const oneHot = tf.oneHot(tf.cast(labels, 'int32'), classes);
    return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 1))) as tf.Scalar;
  });
}
