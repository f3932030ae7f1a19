export * from './names';
export * from './errors';
export * from './contract';
export * from './dispatch';
export * from './training-contract';
