import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { z } from 'zod';
import type { CommandRegistrar } from '../main.js';
import { campaignStatus, startCampaign, sweepCampaigns, type CampaignStarted, type CampaignStatus } from '../lib/attestations.js';
import { stackContext, type StackContext } from '../lib/context.js';
import { OperationFailed, paint, table, UsageError, type CliIo } from '../lib/io.js';

const email = z.string().trim().toLowerCase().pipe(z.email());
const CAMPAIGN_ID = /^att-[0-9a-f]{24}$/;
const isoTime = z.iso.datetime({ offset: true });

/** Who asked, as the campaign records it: the caller's AWS identity. */
async function caller(ctx: StackContext): Promise<string> {
  try {
    return (await ctx.clients.sts.send(new GetCallerIdentityCommand({}))).Arn ?? 'nhigov-cli';
  } catch {
    return 'nhigov-cli';
  }
}

function campaignId(value: string | undefined): string | undefined {
  if (value !== undefined && !CAMPAIGN_ID.test(value)) throw new UsageError(`"${value}" is not a campaign id (att- and 24 hex digits)`);
  return value;
}

export const registerAttest: CommandRegistrar = (program, io) => {
  const attest = program.command('attest').description('owner attestation campaigns: owners confirm, per NHI, "still mine and still needed" or "not mine / not needed"');
  attest
    .command('start')
    .description('open a campaign now: each owner is mailed their own signed link (the deployed stack also opens one on its schedule)')
    .option('--owner <email>', 'only the NHIs of this owner')
    .action(async (options: { owner?: string }) => {
      const out = io();
      const owner = options.owner === undefined ? undefined : email.safeParse(options.owner);
      if (owner && !owner.success) throw new UsageError(`--owner must be an email address, not "${options.owner}"`);
      const ctx = await stackContext();
      const result = await startCampaign(ctx, { ...(owner?.data ? { owner: owner.data } : {}), requestedBy: await caller(ctx) });
      out.result(result, () => renderStarted(out, result));
    });
  attest
    .command('sweep')
    .description('sweep now as the hourly schedule does: escalate past the answer window, start the follow-up changes, close campaigns that are done')
    .argument('[campaignId]', 'one campaign (default: every open one)')
    .option('--as-of <time>', 'judge the windows at this ISO time instead of now (recorded on every event the sweep writes)')
    .action(async (id: string | undefined, options: { asOf?: string }) => {
      const out = io();
      if (options.asOf !== undefined && !isoTime.safeParse(options.asOf).success) throw new UsageError(`--as-of must be an ISO time with an offset (e.g. 2030-01-01T00:00:00Z), not "${options.asOf}"`);
      const results = await sweepCampaigns(await stackContext(), campaignId(id), options.asOf);
      out.result({ results }, () => (results.length === 0 ? 'no open campaign' : table(['campaign', 'escalated', 'lapsed', 'follow-up changes', 'closed'], results.map((r) => [r.campaignId, r.escalated.join(', ') || '-', r.lapsed, r.followUps.join(', ') || '-', r.closed ?? '-']))));
    });
  attest
    .command('status')
    .description('a campaign (default: the newest): who answered, who did not, what it changed')
    .argument('[campaignId]', 'the campaign id (att-...)')
    .action(async (id: string | undefined) => {
      const out = io();
      const status = await campaignStatus(await stackContext(), campaignId(id));
      if (!status) throw new OperationFailed(id ? `no attestation campaign ${id}` : 'no attestation campaign yet (nhigov attest start)');
      out.result(status, () => renderStatus(out, status));
    });
};

function renderStarted(out: CliIo, r: CampaignStarted): string {
  const accounts = r.accounts.length > 0 ? ` in ${r.accounts.length} account(s)` : '';
  return [
    `campaign ${r.campaignId} opened: ${r.nhis} NHI(s) of ${r.owners} owner(s)${accounts}, ${r.emailsSent} email(s) sent${r.ownerUnknown ? `, ${r.ownerUnknown} without an owner (OWNER_UNKNOWN)` : ''}`,
    ...r.unreadableAccounts.map((a) => paint(out, 'red', `  account ${a} could not be read (CONNECTOR_ACCESS_DENIED): nobody there was asked`)),
    `  nhigov attest status ${r.campaignId}`,
  ].join('\n');
}

function renderStatus(out: CliIo, s: CampaignStatus): string {
  return [
    `${paint(out, 'bold', s.campaignId)}  ${s.state} (${s.status})  started ${s.startedAt}  answer by ${s.answerBy}  act by ${s.actBy}`,
    `${s.nhis} NHI(s): ${s.answered} answered, ${s.unanswered} not answered, ${s.ownerUnknown} OWNER_UNKNOWN${s.accounts.length > 0 ? `; accounts read: ${s.accounts.join(', ')}` : ''}`,
    ...s.unreadableAccounts.map((u) => paint(out, 'red', `account ${u.account} not read (CONNECTOR_ACCESS_DENIED), nobody there was asked: ${u.message}`)),
    '',
    table(['owner', 'asked', 'answered', 'kept', 'not needed', 'escalated to manager'], s.owners.map((o) => [o.owner, o.asked, o.answered, o.kept, o.released, o.escalatedAt ? `${o.manager} at ${o.escalatedAt}` : '-'])),
    '',
    table(['nhi', 'type', 'account', 'owner', 'answer', 'outcome', 'change'], s.items.map((i) => [i.nhi, i.type, i.account ?? '-', i.owner ?? '-', i.answer ?? paint(out, 'yellow', 'none'), i.outcome ?? '-', i.changeId ?? '-'])),
    ...(s.changes.length ? ['', 'changes it started:', ...s.changes.map((c) => `  ${c.changeId}  ${c.reason}  ${c.owner ?? '-'}${c.account ? `  account ${c.account}` : ''}  ${c.nhis.join(', ')}${c.started ? '' : '  (not started yet)'}`)] : []),
  ].join('\n');
}
