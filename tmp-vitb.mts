import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './core/model/backend';
import { vitConfigSchema } from './core/model/config';
import { randomBackboneWeights } from './core/model/random-weights';
import { ViTBackbone } from './core/model/vit';
import { AdaptedViT } from './core/model/model';
import { parseAdapterConfig } from './core/model/adapter-config';
await initBackend({ force: process.argv[2] ?? 'wasm' });
const cfg = vitConfigSchema.parse({ imageSize: 224, patchSize: 16, embedDim: 768, depth: 12, numHeads: 12 });
let t = Date.now();
const w = randomBackboneWeights(cfg);
const bb = new ViTBackbone(cfg, w);
console.log('build ms', Date.now() - t, tf.memory());
for (const method of ['dvpt', 'ept']) {
const model = AdaptedViT.initialise(bb, parseAdapterConfig({ method, numClasses: 5 }, 'x'));
const x = tf.randomUniform([1, 224, 224, 3]) as tf.Tensor4D;
t = Date.now();
const out = model.forward(x); await out.logits.data(); tf.dispose([out.features, out.logits]);
console.log(method, 'forward b1 ms', Date.now() - t);
const opt = tf.train.adam(1e-3);
t = Date.now();
const loss = model.trainStep(opt, [{ images: x, labels: tf.tensor1d([1]) }]);
console.log(method, 'train step b1 ms', Date.now() - t, loss, tf.memory().numBytes / 1e6);
const x2 = tf.randomUniform([2, 224, 224, 3]) as tf.Tensor4D;
t = Date.now();
model.trainStep(opt, [{ images: x2, labels: tf.tensor1d([1, 2]) }]);
console.log(method, 'train step b2 ms', Date.now() - t);
opt.dispose(); model.dispose();
}
