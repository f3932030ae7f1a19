// tfjs-core's Node build registers no gradients; the @tensorflow/tfjs union bundle does (it
// shares our tfjs-core instance), so importing it once makes tf.variableGrads work in Node.
import '@tensorflow/tfjs';
