#!/usr/bin/env node
// The `tern` command: runs the bundled CLI (build it with `npm run build`).
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const bundle = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(bundle)) {
  process.stderr.write(`tern: ${bundle} is missing; run \`npm run build\` in ${path.dirname(__dirname)} first.\n`);
  process.exit(2);
}
require(bundle);
