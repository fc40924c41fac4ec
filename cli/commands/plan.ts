import { randomUUID } from 'node:crypto';
import { parseGovernanceEvent } from '../../lambdas/domain/events.js';
import type { CommandRegistrar } from '../main.js';
import { stackContext } from '../lib/context.js';
import { dryRunPlan } from '../lib/dry-run.js';
import { readJsonInput } from '../lib/input.js';
import { UsageError } from '../lib/io.js';
import { renderPlan } from '../lib/render-plan.js';

export const registerPlan: CommandRegistrar = (program, io) => {
  program
    .command('plan')
    .description('dry run: the plan an event would produce; nothing is written to targets')
    .requiredOption('--event <file>', 'event JSON, or - for stdin')
    .action(async (options: { event: string }) => {
      const out = io();
      const raw = readJsonInput(options.event);
      const withId = raw && typeof raw === 'object' && !Array.isArray(raw) && !('id' in raw) ? { ...raw, id: `dry-run-${randomUUID()}` } : raw;
      const parsed = parseGovernanceEvent(withId);
      if (!parsed.ok) throw new UsageError(`INPUT_INVALID: ${parsed.error}`);
      const plan = await dryRunPlan((await stackContext()), parsed.event);
      out.result(plan, () => renderPlan(out, plan));
    });
};
