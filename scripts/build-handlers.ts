import { buildHandlers } from '../local/build.js';

const started = Date.now();
const outputs = await buildHandlers();
process.stderr.write(`built ${outputs.length} handlers into dist/handlers in ${Date.now() - started} ms\n`);
