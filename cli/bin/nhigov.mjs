#!/usr/bin/env node
// The nhigov command: runs the TypeScript CLI through tsx (no build step for the CLI).
import { register } from 'tsx/esm/api';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
const { main } = await import('../main.ts');
process.exitCode = await main(process.argv);
