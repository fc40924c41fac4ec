import { Command, CommanderError } from 'commander';
import { oneLine } from '../lambdas/domain/events.js';
import { isAppError } from '../lambdas/domain/reasons.js';
import { createIo, OperationFailed, UsageError, type CliIo } from './lib/io.js';
import { COMMANDS } from './commands/index.js';

/** Each command module registers itself; `io` is built per invocation from --json. */
export type CommandRegistrar = (program: Command, io: () => CliIo) => void;

export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command('nhigov')
    .description('nhi-governor: governs changes to non-human identities on AWS, verified by reading back')
    .option('--json', 'print exactly one JSON document on stdout')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  const io = () => createIo({ json: Boolean(program.opts<{ json?: boolean }>().json || process.argv.includes('--json')) });
  for (const register of COMMANDS) register(program, io);
  program.commands.forEach(function allowJson(command: Command): void {
    command.option('--json', 'print exactly one JSON document on stdout');
    command.exitOverride();
    command.commands.forEach(allowJson);
  });
  try {
    await program.parseAsync(argv as string[]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    return exitCodeFor(error);
  }
}

function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0) return 0;
    return 2;
  }
  if (error instanceof UsageError) {
    process.stderr.write(`nhigov: ${oneLine(error.message)}\n`);
    return 2;
  }
  if (error instanceof OperationFailed) {
    process.stderr.write(`nhigov: ${oneLine(error.message)}\n`);
    return 1;
  }
  if (isAppError(error)) {
    process.stderr.write(`nhigov: ${error.reasonCode}: ${oneLine(error.message)}\n`);
    return error.reasonCode === 'INPUT_INVALID' || error.reasonCode === 'POLICY_INVALID' ? 2 : 1;
  }
  process.stderr.write(`nhigov: ${oneLine(error instanceof Error ? error.message : String(error))}\n`);
  return 1;
}
