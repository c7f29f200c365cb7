#!/usr/bin/env node
// The command line's entry point (bin/gatehouse.js, `node dist/cli.js`): one file per command group
// in cli/, dispatched by cli/main.ts. The command line is the only place that wires config to processes.
import { main } from './cli/main.js';

const exitCode = await main(process.argv.slice(2));
// A failed command ends now, whatever handles are still open; a running server keeps going.
if (exitCode !== 0) process.exit(exitCode);
