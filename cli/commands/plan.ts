import type { Plan } from '../../lambdas/domain/plan-model.js';
import type { CommandRegistrar } from '../main.js';
import { stackContext } from '../lib/context.js';
import { dryRunPlan } from '../lib/dry-run.js';
import { readEventInput } from '../lib/event-input.js';
import { renderPlan } from '../lib/render-plan.js';

export const registerPlan: CommandRegistrar = (program, io) => {
  program
    .command('plan')
    .description('dry run: the plan an event would produce; nothing is written to targets')
    .requiredOption('--event <file>', 'event JSON, or - for stdin')
    .action(async (options: { event: string }) => {
      const out = io();
      const input = readEventInput(out, options.event, 'dry-run');
      if (!input) return;
      const ctx = await stackContext();
      // One plan per trigger (a Health event with several keys, a Security Hub finding with several resources).
      const plans: Plan[] = [];
      for (const trigger of input.triggers) plans.push(await dryRunPlan(ctx, trigger));
      const [only] = plans;
      if (only && plans.length === 1) out.result(only, () => renderPlan(out, only));
      else out.result(plans, () => plans.map((plan) => renderPlan(out, plan)).join('\n'));
    });
};
