/** The frozen ViT, its adapters (linear, EPT, DVPT), adapter files, backends and parity checks. */
export * from './adapter-config';
export * from './adapter-file';
export * from './backend';
export * from './checkpoint';
export * from './config';
export * from './heads';
export * from './model';
export * from './parity';
export * from './pos-embed';
export * from './random-weights';
export * from './safetensors';
export * from './vit';
export { geluErf, layerNorm, relativeError } from './ops';
