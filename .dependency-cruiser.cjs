/**
 * The layer rules of docs/architecture.md, checked by `npm run lint:deps` (part of `npm test`).
 * Type-only imports count: a type cycle is still a cycle in how the code must be read.
 */
const CORE_LEAVES = '^core/(vocabulary|app-info)\\.ts$|^core/util/';

/** A layer may import only the folders listed for it (plus the dependency-free leaves). */
function layer(name, allowed) {
  const ok = [`^core/${name}/`, CORE_LEAVES, ...allowed.map((a) => `^core/${a}/`)].join('|');
  return {
    name: `layer-${name}`,
    comment: `core/${name} may import only: ${allowed.join(', ') || 'nothing else in core'} (docs/architecture.md)`,
    severity: 'error',
    from: { path: `^core/${name}/` },
    to: { path: '^core/', pathNot: ok },
  };
}

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles, type-only imports included: move the shared part down to where both sides can import it.',
      severity: 'error',
      from: { path: '^(core|electron|renderer/src|bench|scripts)/' },
      to: { circular: true },
    },
    {
      name: 'leaves-import-nothing',
      comment: 'core/vocabulary.ts and core/util/ are dependency-free: every layer and the renderer import them.',
      severity: 'error',
      from: { path: '^core/vocabulary\\.ts$|^core/util/' },
      to: { path: '^core/', pathNot: '^core/util/' },
    },
    layer('api', []),
    layer('imaging', []),
    layer('model', []),
    layer('store', ['imaging']),
    layer('active', ['store', 'model', 'train']),
    layer('train', ['model', 'store', 'imaging', 'segmentation']),
    layer('pacs', ['store', 'imaging']),
    layer('segmentation', ['imaging', 'model', 'store']),
    layer('app', ['api', 'store', 'imaging', 'model', 'train', 'active', 'pacs', 'segmentation']),
    layer('bridge', ['api', 'app']),
    layer('cli', ['store', 'imaging', 'model', 'train', 'active', 'pacs', 'segmentation']),
    {
      name: 'store-through-its-index',
      comment: 'Outside core/store only core/store/index.ts is imported: the SQLite connection (databaseOf) stays inside the store.',
      severity: 'error',
      from: { path: '^(core|electron|renderer/src|bench|scripts)/', pathNot: '^core/store/' },
      to: { path: '^core/store/', pathNot: '^core/store/index\\.ts$' },
    },
    {
      name: 'core-knows-no-shell',
      comment: 'core/ is pure Node: no Electron, no renderer.',
      severity: 'error',
      from: { path: '^core/' },
      to: { path: '^(electron|renderer)/|^node_modules/electron/' },
    },
    {
      name: 'renderer-sees-the-contract-only',
      comment: 'The renderer talks to the app through window.medtune: from core it imports the contract, the vocabulary and pure display helpers.',
      severity: 'error',
      from: { path: '^renderer/' },
      to: {
        path: '^core/',
        pathNot: '^core/(vocabulary\\.ts|api/(contract|training-contract|pacs-contract|mask-contract|reading-contract|errors|names)\\.ts|bridge/(codec|protocol)\\.ts|imaging/(display|measure|types)\\.ts)$',
      },
    },
    {
      name: 'no-unused-index',
      comment: 'An index module that nothing in the product imports is dead code: import the modules themselves.',
      severity: 'error',
      module: { path: '/index\\.ts$', numberOfDependentsLessThan: 1 },
      from: {},
    },
    {
      name: 'no-orphans',
      comment: 'A module nothing imports is dead code (entry points and declaration files excepted).',
      severity: 'error',
      from: {
        orphan: true,
        pathNot: [
          '\\.d\\.ts$',
          '^core/(bridge/web-main|cli/main)\\.ts$',
          '-worker\\.(ts|mjs)$',
          '^(bench|scripts|electron)/',
          '^renderer/src/main\\.ts$',
        ],
      },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|test-output)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.mjs', '.js', '.cjs', '.vue', '.json'] },
  },
};
