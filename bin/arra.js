#!/usr/bin/env node
// The `arra` command: runs examples/cli.ts through tsx, so no build step is needed.
'use strict';
require('tsx/cjs');
const { main } = require('../examples/cli.ts');
main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`${err && err.stack ? err.stack : err}\n`); process.exitCode = 1; },
);
