// Shared esbuild settings for the Node-side bundles (CLI, trainer worker, benchmarks).
// tfjs is bundled (module entry points) so that tfjs-core, its gradients and every backend share one
// instance; every other dependency stays external and is required from node_modules at run time.
export const tfjsInline = {
  name: 'externalise-all-but-tfjs',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('@tensorflow/')) return undefined;
      return { path: args.path, external: true };
    });
  },
};

export const nodeBundle = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  mainFields: ['module', 'main'],
  sourcemap: true,
  logLevel: 'warning',
  plugins: [tfjsInline],
};
