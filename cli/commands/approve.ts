import { z } from 'zod';
import { decideThroughLink } from '../lib/approvals.js';
import type { CommandRegistrar } from '../main.js';
import { stackContext } from '../lib/context.js';
import { OperationFailed, paint, UsageError } from '../lib/io.js';

const emailSchema = z.email();

export const registerApprove: CommandRegistrar = (program, io) => {
  program
    .command('approve')
    .description('approve (or --reject) a change awaiting approval, through the same signed-link HTTP API the email uses')
    .argument('<changeId>')
    .requiredOption('--as <email>', 'the approver deciding (must be in the policy\'s approver group)')
    .option('--reject', 'reject the change instead')
    .option('--comment <text>', 'recorded as evidence with the decision')
    .action(async (changeId: string, options: { as: string; reject?: boolean; comment?: string }) => {
      const out = io();
      if (!emailSchema.safeParse(options.as.trim()).success) throw new UsageError(`--as must be an email address, not "${options.as}"`);
      const result = await decideThroughLink((await stackContext()), { changeId, approver: options.as, decision: options.reject ? 'reject' : 'approve', ...(options.comment ? { comment: options.comment } : {}) });
      out.result(result, () =>
        result.ok
          ? `${paint(out, 'green', result.decision === 'approve' ? 'approved' : 'rejected')} ${changeId} as ${result.approver}; the change is now ${result.changeStatus ?? 'continuing'}${result.stillNeeded ? ` (${result.stillNeeded} more approval${result.stillNeeded === 1 ? '' : 's'} needed: ${result.message ?? ''})` : ''}\n  nhigov wait ${changeId}`
          : `${paint(out, 'red', 'refused')} (${result.httpStatus}) ${result.reasonCode ?? result.reason ?? ''}: ${result.message ?? ''}`,
      );
      if (!result.ok) throw new OperationFailed(`${result.reasonCode ?? result.reason ?? `HTTP ${result.httpStatus}`}: ${result.message ?? 'refused'}`);
    });
};
