#!/usr/bin/env node
// Entry point of the bundle (dist/lwdisk.mjs).
import { runCli } from './lwdisk.js';

runCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
