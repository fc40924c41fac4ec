import type { CommandRegistrar } from '../main.js';
import { localSettings } from '../../local/settings.js';
import { readStackOutputs } from '../../local/stack.js';
import { readJsonInput } from '../lib/input.js';
import { OperationFailed, table, UsageError } from '../lib/io.js';

async function gatewayCall(path: string, init?: RequestInit): Promise<unknown> {
  const settings = localSettings();
  const outputs = readStackOutputs(settings);
  if (!outputs) throw new OperationFailed(`no local stack is running for ${settings.stateDir} (start one with: nhigov local up --detach)`);
  const reply = await fetch(`${outputs.endpoint}${path}`, init);
  const body = (await reply.json()) as { error?: string };
  if (reply.status === 400) throw new UsageError(`INPUT_INVALID: ${body.error ?? 'refused'}`);
  if (!reply.ok) throw new OperationFailed(`the gateway answered ${reply.status}: ${body.error ?? ''}`);
  return body;
}

export const registerGateway: CommandRegistrar = (program, io) => {
  const fault = program.command('fault').description('local gateway fault injection');
  fault
    .command('add')
    .description('add a fault rule: {"service","action","mode","times","ms"?}')
    .argument('<rule>', 'the rule as JSON, or a file holding it, or - for stdin')
    .action(async (rule: string) => {
      const out = io();
      let raw: unknown;
      try {
        raw = JSON.parse(rule);
      } catch {
        raw = readJsonInput(rule);
      }
      const added = await gatewayCall('/_nhigov/faults', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(raw) });
      out.result(added, (doc) => `fault added: ${JSON.stringify(doc)}`);
    });
  fault
    .command('clear')
    .description('remove every fault rule')
    .action(async () => {
      const out = io();
      out.result(await gatewayCall('/_nhigov/faults', { method: 'DELETE' }), () => 'faults cleared');
    });
  fault
    .command('list')
    .description('the live fault rules')
    .action(async () => {
      const out = io();
      const doc = (await gatewayCall('/_nhigov/faults')) as { rules: Array<Record<string, unknown>> };
      out.result(doc.rules, () =>
        doc.rules.length ? table(['id', 'service', 'action', 'mode', 'remaining', 'hits'], doc.rules.map((r) => [String(r.id), String(r.service), String(r.action), String(r.mode), String(r.remaining), String(r.hits)])) : 'no fault rules',
      );
    });
  program
    .command('stats')
    .description('gateway counters: AWS calls by service and action, handler invocations, faults')
    .action(async () => {
      const out = io();
      const doc = (await gatewayCall('/_nhigov/stats')) as { aws: Record<string, Record<string, number>>; lambda: Record<string, number> };
      out.result(doc, () =>
        table(
          ['service', 'action', 'calls'],
          [
            ...Object.entries(doc.aws).flatMap(([service, actions]) => Object.entries(actions).map(([action, n]) => [service, action, n])),
            ...Object.entries(doc.lambda).map(([fn, n]) => ['handler', fn, n]),
          ],
        ),
      );
    });
};
