import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { parseGovernanceEvent, type GovernanceEvent } from '../../lambdas/domain/events.js';
import { isTerminalStatus } from '../../lambdas/domain/status.js';
import { localSettings } from '../../local/settings.js';
import { DEMO_ESTATE } from '../../local/seed.js';
import { memberAccountClients } from '../../local/aws-clients.js';
import type { CommandRegistrar } from '../main.js';
import { showChange } from '../lib/changes.js';
import { stackContext, type StackContext } from '../lib/context.js';
import { dryRunPlan } from '../lib/dry-run.js';
import { paint, table, type CliIo } from '../lib/io.js';
import { spinner } from '../lib/progress.js';
import { renderPlan } from '../lib/render-plan.js';
import { putEvent } from './event.js';
import { decideThroughLink } from '../lib/approvals.js';
import { down, startDetachedStack } from './local.js';
import { renderChange } from './changes.js';
import { setTimeout as sleep } from 'node:timers/promises';

export const registerDemo: CommandRegistrar = (program, io) => {
  program
    .command('demo')
    .description('start the local stack, seed the demo estate, run the termination scenario, keep running until Ctrl-C')
    .action(async () => {
      const out = io();
      await runDemo(out);
      out.info(paint(out, 'dim', 'the stack keeps running; Ctrl-C stops everything it started'));
      // Nothing else holds the event loop open: keep this process (and its signal handlers) alive.
      setInterval(() => undefined, 1 << 30);
      await new Promise(() => undefined);
    });
};

function event(detailType: 'Employee Terminated', detail: Record<string, unknown>): GovernanceEvent {
  const parsed = parseGovernanceEvent({ id: `demo-${randomUUID()}`, source: 'hr.system', 'detail-type': detailType, detail });
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.event;
}

async function runDemo(out: CliIo): Promise<void> {
  const settings = localSettings();
  const say = (text = '') => out.info(text);
  say(paint(out, 'bold', 'nhi-governor demo: a change is done only when the target is seen in the new state'));
  const starting = spinner('starting moto, the gateway and the local stack');
  const outputs = await startDetachedStack(true);
  starting.stop(`${paint(out, 'green', '✔')} local stack up in ${(outputs.timings.readyMs / 1000).toFixed(1)}s at ${outputs.endpoint} (state and logs in ${settings.stateDir})`);
  const stopAll = async () => {
    const stopped = await down();
    say(`\nstopped the local stack (pids ${stopped.stopped.join(', ')}); its state was in memory and is gone`);
    process.exit(0);
  };
  process.once('SIGINT', () => void stopAll());
  process.once('SIGTERM', () => void stopAll());
  const ctx = await stackContext();

  say('');
  say(paint(out, 'bold', 'the demo estate'));
  say(table(['type', 'name', 'account', 'owner', 'env', 'governed'], DEMO_ESTATE.map((n) => [n.type, n.name, n.account ?? `${ctx.target.account} (the stack's)`, n.owner ?? '(none)', n.env, n.governed === false ? 'no' : 'yes'])));

  say('');
  say(paint(out, 'bold', `scenario: dave@example.com leaves the company (HR sends "Employee Terminated"); his NHIs are in two accounts`));
  const termination = event('Employee Terminated', { employeeId: 'E-1042', email: 'dave@example.com' });
  say(renderPlan(out, await dryRunPlan(ctx, termination)));
  say('');
  await runChange(out, ctx, termination);

  say('');
  say(paint(out, 'bold', 'read back, independently of the workflow, in each account with its own credentials:'));
  for (const user of DEMO_ESTATE.filter((n) => n.owner === 'dave@example.com' && n.type === 'user')) {
    const iam = user.account ? (await memberAccountClients(outputs.endpoint, user.account)).iam : ctx.clients.iam;
    const keys = await iam.send(new ListAccessKeysCommand({ UserName: user.name }));
    say(`  ${user.name} (account ${user.account ?? ctx.target.account}): ${(keys.AccessKeyMetadata ?? []).map((k) => `${k.AccessKeyId} ${k.Status}`).join(', ')}`);
  }
  say('');
  say(paint(out, 'bold', 'scenario: alice@example.com leaves; her NHIs serve production, her manager is bob@example.com'));
  const prodTermination = event('Employee Terminated', { employeeId: 'E-0007', email: 'alice@example.com', managerEmail: 'bob@example.com' });
  say(renderPlan(out, await dryRunPlan(ctx, prodTermination)));
  say('');
  const pending = await runChange(out, ctx, prodTermination);
  if (pending.status === 'AWAITING_APPROVAL') {
    say('');
    say(paint(out, 'bold', 'nothing has been written: the change waits for an approver. Each approver got a link of their own:'));
    for (const link of await approvalLinks(outputs.endpoint)) say(`  ${link}`);
    say(paint(out, 'dim', '  (opening a link only shows the plan; the decision is a POST. Emails: console → Outbox.)'));
    say('');
    say(`approving as approver@example.com through the same signed-link API (\`nhigov approve ${pending.changeId} --as approver@example.com\`)`);
    const decided = await decideThroughLink(ctx, { changeId: pending.changeId, approver: 'approver@example.com', decision: 'approve', comment: 'demo: offboarding ticket HR-0007' });
    if (!decided.ok) say(paint(out, 'red', `  refused: ${decided.reasonCode ?? decided.reason ?? decided.httpStatus}`));
    await followChange(out, ctx, pending.changeId, Date.now(), pending.printed);
  }

  say('');
  say(paint(out, 'bold', 'where to look next'));
  say(`  console        ${outputs.consoleUrl}`);
  say(`  a change       npm run nhigov -- show <changeId>      (or: npx nhigov changes)`);
  say(`  evidence       npx nhigov evidence <changeId> --format html > evidence.html`);
  say(`  AWS calls      npx nhigov stats`);
  say(`  your own event npx nhigov event my-event.json   (see README)`);
}

const slackSinkSchema = z.object({ messages: z.array(z.object({ payload: z.looseObject({ text: z.string().optional() }) })) });

/** The approval links of the last request the Slack sink received: one direct message per approver. */
async function approvalLinks(endpoint: string): Promise<string[]> {
  const reply = await fetch(`${endpoint}/_sinks/slack`);
  const parsed = slackSinkSchema.safeParse(await reply.json().catch(() => null));
  const messages = parsed.success ? parsed.data.messages : [];
  const subject = messages.at(-1)?.payload.text;
  const text = JSON.stringify(messages.filter((m) => m.payload.text === subject).map((m) => m.payload));
  return [...new Set(text.match(/https?:\/\/[^\s"'<>|\\]+\/approvals\/[^\s"'<>|\\]+/g) ?? [])].map((link) => link.replace(/&amp;/g, '&'));
}

/** Sends the event and narrates the change step by step from its evidence until it settles. */
async function runChange(out: CliIo, ctx: StackContext, governanceEvent: GovernanceEvent): Promise<{ changeId: string; status: string; printed: number }> {
  const sent = Date.now();
  const progress = spinner('sending the event to the bus');
  const { changeId } = await putEvent(ctx, governanceEvent);
  progress.stop();
  return followChange(out, ctx, changeId, sent, 0);
}

/** Prints each new evidence event of the change until it is terminal or awaits a person. */
async function followChange(out: CliIo, ctx: StackContext, changeId: string, since: number, alreadyPrinted: number): Promise<{ changeId: string; status: string; printed: number }> {
  const progress = spinner(`change ${changeId} running`);
  let printed = alreadyPrinted;
  for (;;) {
    const doc = await showChange(ctx, changeId);
    if (doc) {
      for (const e of doc.evidence.slice(printed)) {
        progress.stop();
        out.info(`  ${paint(out, 'dim', e.at.slice(11, 23))} ${e.type.padEnd(18)} ${[e.actionId, e.nhi, e.reasonCode].filter(Boolean).join(' ')}`);
      }
      printed = doc.evidence.length;
      if (isTerminalStatus(doc.status) || (doc.status === 'AWAITING_APPROVAL' && printed > alreadyPrinted && doc.evidence.some((e) => e.type === 'APPROVAL_REQUESTED') && !doc.evidence.some((e) => e.type === 'APPROVED'))) {
        progress.stop();
        out.info('');
        out.info(renderChange(out, doc));
        out.info(`${alreadyPrinted ? 'decision' : 'event'} → ${doc.status} in ${((Date.now() - since) / 1000).toFixed(1)}s`);
        return { changeId, status: doc.status, printed };
      }
    }
    await sleep(200);
  }
}
