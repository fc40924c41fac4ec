import { campaignStatus, startCampaign, sweepCampaigns } from '../cli/lib/attestations.js';
import { waitForChange } from '../cli/lib/changes.js';
import type { StackContext } from '../cli/lib/context.js';
import { mapBounded } from '../lambdas/lib/map-bounded.js';
import { createGovernedUser, ownerEmail } from '../test/support/estate.js';
import { printFigure, withStack } from './support.js';
import { setTimeout as sleep } from 'node:timers/promises';

const OWNERS = 10;
const PER_OWNER = 20;

/**
 * An attestation campaign over 200 NHIs (10 owners × 20 dev users): emails sent and the time to
 * open it; every owner answers "not needed" for every NHI through their link; then one sweep
 * plans the follow-up changes (one per owner, through the change workflow): the time until every
 * follow-up change has its plan stored, and until every one is VERIFIED.
 */
export async function runAttestationBench(): Promise<void> {
  await withStack(async (stack) => {
    const ctx = await stack.context();
    const owners = Array.from({ length: OWNERS }, () => ownerEmail('attest'));
    await mapBounded(
      owners.flatMap((owner) => Array.from({ length: PER_OWNER }, () => owner)),
      8,
      (owner) => createGovernedUser(stack.direct, { owner, keys: 0 }),
    );

    const opened = Date.now();
    const started = await startCampaign(ctx, { requestedBy: 'bench' });
    const openMs = Date.now() - opened;
    printFigure(`campaign over ${started.nhis} NHIs: emails sent`, `${started.emailsSent} (${started.owners} owners, ${started.ownerUnknown} without owner, ${started.accounts.length} account(s) read)`);
    printFigure('campaign opened (snapshot, 10 links signed, mails, evidence)', `${(openMs / 1000).toFixed(2)} s`);

    const links = await ownerLinks(stack.port, owners);
    const status = await campaignStatus(ctx, started.campaignId);
    const answersStarted = Date.now();
    const codes = await mapBounded(status?.items ?? [], 8, async (item) => answer(links.get(item.owner ?? '') ?? null, item.nhi));
    const bad = codes.filter((c) => c !== 200);
    if (bad.length) throw new Error(`${bad.length} answers refused: ${bad.slice(0, 3).join(', ')}`);
    printFigure(`${codes.length} answers POSTed (8 at a time)`, `${((Date.now() - answersStarted) / 1000).toFixed(1)} s`);

    const swept = Date.now();
    const [result] = await sweepCampaigns(ctx, started.campaignId);
    const sweepMs = Date.now() - swept;
    const followUps = result?.followUps ?? [];
    const planned = await Promise.all(followUps.map((id) => untilPlanned(ctx, id, swept)));
    printFigure(`sweep: follow-up changes started`, `${followUps.length} in ${(sweepMs / 1000).toFixed(2)} s`);
    printFigure(`sweep → every follow-up change planned (${followUps.length} changes, ${codes.length} NHIs)`, `${(Math.max(...planned) / 1000).toFixed(2)} s`);
    const verified = await Promise.all(followUps.map(async (id) => {
      const { doc } = await waitForChange(ctx, id, 600_000, 250);
      if (doc?.status !== 'VERIFIED') throw new Error(`${id} ended ${doc?.status}`);
      return Date.now() - swept;
    }));
    printFigure(`sweep → every follow-up change VERIFIED (${codes.length} quarantines)`, `${(Math.max(...verified) / 1000).toFixed(1)} s`);
  });
}

async function ownerLinks(port: number, owners: readonly string[]): Promise<Map<string, URL>> {
  const data = (await (await fetch(`http://127.0.0.1:${port + 1}/moto-api/data.json`)).json()) as { ses?: { Message?: Array<{ body: string; destinations: { ToAddresses?: string[] } }> } };
  const links = new Map<string, URL>();
  for (const owner of owners) {
    const mail = (data.ses?.Message ?? []).find((m) => m.destinations.ToAddresses?.[0] === owner && m.body.includes('/attestations/'));
    const url = /https?:\/\/[^\s"<>]+\/attestations\/[^\s"<>]+/.exec((mail?.body ?? '').replace(/&amp;/g, '&'))?.[0];
    if (!url) throw new Error(`no link mailed to ${owner}`);
    links.set(owner, new URL(url));
  }
  return links;
}

async function answer(link: URL | null, nhi: string): Promise<number> {
  if (!link) return 0;
  const form = new URLSearchParams({ ...Object.fromEntries(['approver', 'exp', 'via', 'sig'].map((k) => [k, link.searchParams.get(k) ?? ''])), nhi, answer: 'release' });
  const reply = await fetch(`${link.origin}${link.pathname}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: form.toString() });
  await reply.arrayBuffer();
  return reply.status;
}

/** Milliseconds from `since` until the change's plan is stored. */
async function untilPlanned(ctx: Pick<StackContext, 'changes'>, changeId: string, since: number): Promise<number> {
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    if ((await ctx.changes.get(changeId))?.planHash) return Date.now() - since;
    await sleep(100);
  }
  throw new Error(`${changeId} was not planned within 300 s`);
}
