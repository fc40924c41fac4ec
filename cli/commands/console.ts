import { serveConsole } from '../../console/server.js';
import type { CommandRegistrar } from '../main.js';
import { stackContext } from '../lib/context.js';
import { OperationFailed, UsageError } from '../lib/io.js';

export const DEFAULT_CONSOLE_PORT = 4580;

export const registerConsole: CommandRegistrar = (program, io) => {
  program
    .command('console')
    .description('serve the web console of the stack this CLI targets on 127.0.0.1, until Ctrl-C')
    .option('--port <port>', `port to listen on; 0 picks a free one (default ${DEFAULT_CONSOLE_PORT})`)
    .action(async (options: { port?: string }) => {
      const out = io();
      const port = portOf(options.port);
      const ctx = await stackContext();
      const running = await serveConsole({ context: ctx, port }).catch((error: unknown) => {
        const inUse = error instanceof Error && 'code' in error && error.code === 'EADDRINUSE';
        throw new OperationFailed(inUse ? `port ${port} is already in use (--port N, or --port 0 for a free one)` : `cannot serve the console on port ${port}: ${String(error)}`);
      });
      const { target } = ctx;
      const doc = { url: running.url, stackName: target.stackName, region: target.region, account: target.account, mode: target.mode };
      out.result(doc, () => `console of stack ${target.stackName} (${target.mode === 'local' ? 'local' : 'deployed'}, ${target.region}, account ${target.account}):\n  ${running.url}`);
      out.info('serving; Ctrl-C stops it');
      const stop = () => void running.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      await new Promise(() => undefined);
    });
};

function portOf(value: string | undefined): number {
  if (value === undefined) return DEFAULT_CONSOLE_PORT;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535) throw new UsageError(`--port must be a port number (0-65535), not ${JSON.stringify(value)}`);
  return port;
}
