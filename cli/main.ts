import { Command, CommanderError } from 'commander';
import { oneLine } from '../lambdas/domain/events.js';
import { isAppError } from '../lambdas/domain/reasons.js';
import { createIo, OperationFailed, UsageError, type CliIo } from './lib/io.js';
import { COMMANDS } from './commands/index.js';
import { selectedStackName } from './lib/context.js';

/** Each command module registers itself; `io` is built per invocation from --json. */
export type CommandRegistrar = (program: Command, io: () => CliIo) => void;

export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command('nhigov')
    .description('nhi-governor: governs changes to non-human identities on AWS, verified by reading back')
    .option('--json', 'print exactly one JSON document on stdout')
    .option('--stack <name>', 'operate this deployed CloudFormation stack (default: NHIGOV_STACK; unset: the running local stack)')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  const io = () => createIo({ json: Boolean(program.opts<{ json?: boolean }>().json || process.argv.includes('--json')) });
  for (const register of COMMANDS) register(program, io);
  program.commands.forEach(function allowJson(command: Command): void {
    command.option('--json', 'print exactly one JSON document on stdout');
    command.exitOverride();
    command.commands.forEach(allowJson);
  });
  program.hook('preAction', (_program, action) => {
    const stack = program.opts<{ stack?: string }>().stack;
    if (stack !== undefined) {
      if (!stack.trim()) throw new UsageError('--stack needs a stack name');
      process.env.NHIGOV_STACK = stack.trim();
    }
    refuseEmulatorOnlyInStackMode(action, stack !== undefined);
  });
  try {
    await program.parseAsync(argv as string[]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    return exitCodeFor(error);
  }
}

/** Commands that exist only for the embedded local stack. */
const EMULATOR_ONLY = new Set(['local', 'fault', 'stats', 'demo']);

/**
 * `local`, `fault`, `stats` and `demo` drive the emulator: in stack mode they exit 2. `local up`
 * is the one use of NHIGOV_STACK they know: the name it registers the local stack under.
 */
function refuseEmulatorOnlyInStackMode(action: Command, stackOption: boolean): void {
  const path: string[] = [];
  for (let command: Command | null = action; command?.parent; command = command.parent) path.unshift(command.name());
  const top = path[0] ?? '';
  if (!EMULATOR_ONLY.has(top) || (!stackOption && !selectedStackName())) return;
  if (!stackOption && path.join(' ') === 'local up') return;
  const how = stackOption ? 'drop --stack' : 'unset NHIGOV_STACK';
  throw new UsageError(`nhigov ${path.join(' ')} works only with the embedded local stack, not in stack mode (${how})`);
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
