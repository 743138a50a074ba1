#!/usr/bin/env node
// Entry point of `npx ld-studio`: the CLI is bundled into out/cli by `npm run build:cli` (run on install by `prepare`).
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const cli = join(__dirname, '..', 'out', 'cli', 'cli.js');
if (!existsSync(cli)) {
  console.error(`ld-studio: the CLI is not built (${cli} is missing); run \`npm run build:cli\` in ${join(__dirname, '..')}`);
  process.exit(1);
}
require(cli);
