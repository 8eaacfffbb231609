// Baseline for bench_verify.sh: @phala/dcap-qvl (npm) verifying the same quote and
// collateral at the same time. usage: node bench_verify_baseline.js MODULE_DIR QUOTE BUNDLE TIME SECONDS
'use strict';
const fs = require('fs');
const path = require('path');
const [moduleDir, quoteFile, bundleFile, time, seconds] = process.argv.slice(2);
const { verify } = require(path.resolve(moduleDir, 'node_modules/@phala/dcap-qvl/src/verify'));
const quote = new Uint8Array(fs.readFileSync(quoteFile));
const collateral = JSON.parse(fs.readFileSync(bundleFile, 'utf8'));
const now = Number(time);
let n = 0, status = '';
const t0 = process.hrtime.bigint();
let elapsed = 0;
do {
  for (let i = 0; i < 10; i++, n++) status = verify(quote, collateral, now).status;
  elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
} while (elapsed < Number(seconds));
console.log(`${Math.round(n / elapsed)} ${status}`);
