// @ts-check
/**
 * The layering of ../shared/docs/architecture.md, held by two lint rules (README, "Architecture"):
 *  - `layers/allowed-imports`: a file imports only from its own layer and the layers listed for it,
 *    and never a module its layer bans (the algorithm does no file I/O; Electron stays in the transports);
 *  - `layers/no-cycle`: no chain of relative imports (type-only ones included) leads back to the file.
 * Relative imports are resolved to files, so the rules see where an import lands, not how it is spelled.
 */
const { existsSync, readFileSync, statSync } = require('node:fs');
const { dirname, relative, resolve } = require('node:path');

const root = resolve(__dirname, '..');

/** Bottom to top; `may` lists the layers below (or beside) that a layer may import. */
const LAYERS = [
  { name: 'common', paths: ['common/'], may: [], bans: ['node:*', 'electron', 'vue'] },
  { name: 'engine', paths: ['main/engine/'], may: ['common'], bans: ['node:fs', 'node:fs/promises', 'fs', 'electron', 'vue'] },
  { name: 'io', paths: ['main/io/', 'main/resources.ts'], may: ['engine', 'common'], bans: ['electron', 'vue'] },
  { name: 'project', paths: ['main/project/'], may: ['io', 'engine', 'common'], bans: ['electron', 'vue'] },
  { name: 'jobs', paths: ['main/jobs/'], may: ['project', 'io', 'engine', 'common'], bans: ['electron', 'vue'] },
  { name: 'ipc', paths: ['main/ipc/'], may: ['jobs', 'project', 'io', 'engine', 'common'], bans: ['electron', 'vue'] },
  {
    name: 'transports',
    paths: ['main/app.ts', 'main/server.ts', 'main/serve.ts', 'main/static.ts', 'main/args.ts'],
    may: ['ipc', 'jobs', 'project', 'io', 'engine', 'common'],
    bans: ['vue'],
  },
  { name: 'cli', paths: ['main/cli/', 'main/cli.ts'], may: ['transports', 'jobs', 'project', 'io', 'engine', 'common'], bans: ['electron', 'vue'] },
  { name: 'preload', paths: ['preload/'], may: ['common'], bans: ['vue'] },
  { name: 'renderer', paths: ['renderer/src/'], may: ['common'], bans: ['node:*', 'electron'] },
];

/** @param {string} file absolute path */
function layerOf(file) {
  const rel = relative(root, file).split('\\').join('/');
  return LAYERS.find((l) => l.paths.some((p) => (p.endsWith('/') ? rel.startsWith(p) : rel === p)));
}

const EXTENSIONS = ['', '.ts', '.vue', '.mts', '.js', '.mjs', '.json', '/index.ts'];
/** @param {string} fromFile @param {string} spec */
function resolveRelative(fromFile, spec) {
  for (const ext of EXTENSIONS) {
    const p = resolve(dirname(fromFile), spec + ext);
    if (existsSync(p) && statSync(p).isFile()) return p;
  }
  return undefined;
}

/** @param {string} spec @param {string[]} bans */
const banned = (spec, bans) => bans.some((b) => (b.endsWith('*') ? spec.startsWith(b.slice(0, -1)) : spec === b || spec.startsWith(b + '/')));

/** Imports, re-exports and import() of one file's text (the same forms the rules check in the AST). */
const IMPORT_TEXT = /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm;
/** @type {Map<string, string[]>} */
const edgesCache = new Map();
let cacheTime = 0;
/** @param {string} file */
function relativeImportsOf(file) {
  let edges = edgesCache.get(file);
  if (edges) return edges;
  edges = [];
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    /* a file that vanished imports nothing */
  }
  for (const m of text.matchAll(IMPORT_TEXT)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (!spec.startsWith('.')) continue;
    const target = resolveRelative(file, spec);
    if (target && /\.(ts|vue|mts)$/.test(target)) edges.push(target);
  }
  edgesCache.set(file, edges);
  return edges;
}

/** A path of imports from `start` back to `goal`, or undefined. */
function pathBack(start, goal) {
  const seen = new Set();
  const stack = [[start, [start]]];
  while (stack.length) {
    const [file, trail] = /** @type {[string, string[]]} */ (stack.pop());
    for (const next of relativeImportsOf(file)) {
      if (next === goal) return trail;
      if (seen.has(next)) continue;
      seen.add(next);
      stack.push([next, [...trail, next]]);
    }
  }
  return undefined;
}

/** Calls `check(node, spec)` for every import-like node of a file. */
function importVisitors(check) {
  const source = (node) => node.source && node.source.type === 'Literal' && typeof node.source.value === 'string' && check(node.source, node.source.value);
  return {
    ImportDeclaration: source,
    ExportNamedDeclaration: source,
    ExportAllDeclaration: source,
    ImportExpression: source,
    CallExpression(node) {
      const [arg] = node.arguments;
      if (node.callee.type === 'Identifier' && node.callee.name === 'require' && arg && arg.type === 'Literal' && typeof arg.value === 'string') check(arg, arg.value);
    },
  };
}

/** @type {import('eslint').Rule.RuleModule} */
const allowedImports = {
  meta: { type: 'problem', docs: { description: 'a file imports only the layers below its own (architecture.md)' }, schema: [] },
  create(context) {
    const file = context.filename;
    const layer = layerOf(file);
    if (!layer) return {};
    return importVisitors((node, spec) => {
      if (!spec.startsWith('.')) {
        if (banned(spec, layer.bans)) context.report({ node, message: `${layer.name} must not import '${spec}' (architecture.md: ${layer.name} ${why(layer.name)})` });
        return;
      }
      const target = resolveRelative(file, spec);
      if (!target) return;
      const to = layerOf(target);
      if (!to || to === layer || layer.may.includes(to.name)) return;
      context.report({ node, message: `${layer.name} must not import from ${to.name} ('${spec}'); ${layer.name} may import ${layer.may.join(', ') || 'nothing outside itself'}` });
    });
  },
};

/** @param {string} name */
function why(name) {
  if (name === 'engine') return 'takes arrays and returns arrays; files are read and written in main/io and main/jobs';
  if (name === 'common') return 'runs in main and in the renderer';
  if (name === 'renderer') return 'talks to main only through the contract';
  return 'stays free of it';
}

/** @type {import('eslint').Rule.RuleModule} */
const noCycle = {
  meta: { type: 'problem', docs: { description: 'no chain of relative imports leads back to the importing file' }, schema: [] },
  create(context) {
    const file = context.filename;
    if (!layerOf(file)) return {};
    // An editor's long-lived ESLint sees files change: read the graph afresh after a pause.
    if (Date.now() - cacheTime > 2000) edgesCache.clear();
    cacheTime = Date.now();
    return importVisitors((node, spec) => {
      if (!spec.startsWith('.')) return;
      const target = resolveRelative(file, spec);
      if (!target || target === file) return;
      const trail = pathBack(target, file);
      if (trail) context.report({ node, message: `import cycle: ${[file, ...trail, file].map((f) => relative(root, f)).join(' → ')}` });
    });
  },
};

module.exports = { LAYERS, plugin: { rules: { 'allowed-imports': allowedImports, 'no-cycle': noCycle } } };
