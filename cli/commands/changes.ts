import type { CommandRegistrar } from '../main.js';
import { listChanges, showChange, waitForChange, type ShowDocument } from '../lib/changes.js';
import { stackContext } from '../lib/context.js';
import { OperationFailed, paint, table, UsageError, type CliIo } from '../lib/io.js';
import { isTerminalStatus } from '../../lambdas/domain/status.js';
import { renderNhi, showNhi } from '../lib/nhi-show.js';

export const registerChanges: CommandRegistrar = (program, io) => {
  program
    .command('changes')
    .description('list changes, newest first')
    .option('--status <status>', 'only changes in this status')
    .action(async (options: { status?: string }) => {
      const out = io();
      const all = await listChanges(await stackContext());
      const changes = options.status ? all.filter((c) => c.status === options.status) : all;
      out.result(changes, () =>
        changes.length === 0
          ? 'no changes yet'
          : table(['change', 'status', 'trigger', 'created', 'actions', 'reasons'], changes.map((c) => [c.changeId, c.status, c.trigger, c.createdAt, c.actions, c.reasonCodes.join(',')])),
      );
    });
  program
    .command('show')
    .description('a change: status, plan, approval, actions, evidence; or, with --nhi, an NHI\'s held states')
    .argument('[changeId]')
    .option('--nhi <nhi>', 'an NHI (name or ARN) instead of a change: its held states and whether they hold now')
    .action(async (changeId: string | undefined, options: { nhi?: string }) => {
      const out = io();
      if (options.nhi !== undefined) {
        if (changeId !== undefined) throw new UsageError('give a change id or --nhi, not both');
        const nhiDoc = await showNhi(await stackContext(), options.nhi);
        if (!nhiDoc) throw new UsageError(`no governed user, role or secret is named ${options.nhi}`);
        out.result(nhiDoc, () => renderNhi(out, nhiDoc));
        return;
      }
      if (changeId === undefined) throw new UsageError('give a change id (or --nhi NHI)');
      const doc = await showChange((await stackContext()), changeId);
      if (!doc) throw new UsageError(`no change ${changeId}`);
      out.result(doc, () => renderChange(out, doc));
    });
  program
    .command('wait')
    .description('block until the change reaches a terminal status or awaits approval')
    .argument('<changeId>')
    .option('--timeout <seconds>', 'give up after this many seconds', '120')
    .action(async (changeId: string, options: { timeout: string }) => {
      const out = io();
      const seconds = Number(options.timeout);
      if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError('--timeout must be a positive number of seconds');
      const { doc, settled } = await waitForChange((await stackContext()), changeId, seconds * 1000);
      if (!doc) throw new OperationFailed(`no change ${changeId} appeared within ${seconds}s`);
      out.result(doc, () => renderChange(out, doc));
      if (!settled) throw new OperationFailed(`change ${changeId} is still ${doc.status} after ${seconds}s`);
    });
};

export function renderChange(io: CliIo, doc: ShowDocument): string {
  const colour = doc.status === 'VERIFIED' || doc.status === 'NO_CHANGES' ? 'green' : isTerminalStatus(doc.status) ? 'red' : 'yellow';
  const lines = [
    `${paint(io, 'bold', doc.changeId)}  ${paint(io, colour, doc.status)}  ${doc.trigger}  ${doc.createdAt}`,
    `policy ${doc.policyVersion?.slice(0, 12) ?? '-'}  plan ${doc.planHash?.slice(0, 12) ?? '-'}${doc.reasonCodes.length ? `  reasons ${doc.reasonCodes.join(', ')}` : ''}`,
    '',
    doc.actions.length === 0
      ? 'no actions'
      : table(
          ['action', 'kind', 'target', 'account', 'status', 'attempts', 'reason', 'observed'],
          doc.actions.map((a) => [a.actionId, a.kind, `${a.target.type} ${a.target.id}`, a.target.account ?? '', a.status, a.attempts, a.reasonCode ?? '', a.observed ? JSON.stringify(a.observed) : '']),
        ),
  ];
  if (doc.approval) {
    const a = doc.approval as Record<string, unknown>;
    const decided = typeof a.decidedBy === 'string' ? `, decided by ${a.decidedBy} at ${String(a.decidedAt)} via ${String(a.channel)}${typeof a.callerIdentity === 'string' ? ` by AWS identity ${a.callerIdentity}` : ''}${a.comment ? ` ("${String(a.comment)}")` : ''}` : '';
    lines.push('', `approval: ${String(a.status ?? 'requested')}${decided}`);
  }
  if (doc.plan?.findings.length) lines.push('', 'findings:', ...doc.plan.findings.map((f) => `  ${f.reasonCode}  ${f.nhi}: ${f.message}`));
  lines.push('', `evidence: ${doc.evidence.length} events (nhigov evidence ${doc.changeId})`);
  return lines.join('\n');
}
