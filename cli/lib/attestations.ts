import { z } from 'zod';
import { summarizeCampaign, type CampaignSummary } from '../../lambdas/domain/attestation.js';
import { AttestationStore, CAMPAIGN_KIND } from '../../lambdas/stores/attestation-store.js';
import { createDocumentClient } from '../../lambdas/stores/dynamo.js';
import type { StackContext } from './context.js';
import { invokeStackFunction } from './invoke-function.js';
import { OperationFailed } from './io.js';

const startResult = z.object({
  campaignId: z.string(),
  created: z.boolean(),
  owners: z.number(),
  nhis: z.number(),
  emailsSent: z.number(),
  ownerUnknown: z.number(),
  accounts: z.array(z.string()),
  unreadableAccounts: z.array(z.string()),
});
const sweepResult = z.object({ campaignId: z.string(), escalated: z.array(z.string()), lapsed: z.number(), followUps: z.array(z.string()), closed: z.string().nullable(), emailsSent: z.number() });
const answerSchema = z.discriminatedUnion('action', [z.object({ action: z.literal('start'), result: startResult }), z.object({ action: z.literal('sweep'), results: z.array(sweepResult) })]);

export type CampaignStarted = z.infer<typeof startResult>;
export type CampaignSwept = z.infer<typeof sweepResult>;

/** A campaign's view: its summary, its record's status and the policy it ran under. */
export interface CampaignStatus extends CampaignSummary {
  readonly status: string;
  readonly policyVersion: string;
}

type Ctx = Pick<StackContext, 'clients' | 'outputs'>;

/** The stack's attestation function does the work: the operator holds no link key and sends no mail. */
function invoke(ctx: Ctx, payload: Record<string, unknown>): Promise<z.infer<typeof answerSchema>> {
  return invokeStackFunction(ctx, ctx.outputs.attestationFunctionName, 'attestation', payload, answerSchema);
}

/** Opens a campaign now: every owner (or only `owner`) is mailed their own link. */
export async function startCampaign(ctx: Ctx, input: { owner?: string; requestedBy?: string }): Promise<CampaignStarted> {
  const answer = await invoke(ctx, { action: 'start', ...input });
  if (answer.action !== 'start') throw new OperationFailed('the attestation function answered a sweep to a start');
  return answer.result;
}

/** Sweeps now what the hourly schedule sweeps: one campaign, or every open one; the windows judged at `asOf` (default now). */
export async function sweepCampaigns(ctx: Ctx, campaignId?: string, asOf?: string): Promise<CampaignSwept[]> {
  const answer = await invoke(ctx, { action: 'sweep', ...(campaignId ? { campaignId } : {}), ...(asOf ? { asOf } : {}) });
  if (answer.action !== 'sweep') throw new OperationFailed('the attestation function answered a start to a sweep');
  return answer.results;
}

/** The campaign (default: the newest); null when there is none. */
export async function campaignStatus(ctx: Pick<StackContext, 'clients' | 'outputs' | 'changes'>, campaignId?: string): Promise<CampaignStatus | null> {
  const id = campaignId ?? (await ctx.changes.list(CAMPAIGN_KIND, 1))[0]?.changeId;
  if (!id) return null;
  const stored = await new AttestationStore(createDocumentClient(ctx.clients.dynamodb), ctx.outputs.tables.changes).get(id);
  return stored ? { ...summarizeCampaign(stored.campaign), status: stored.status, policyVersion: stored.policyVersion } : null;
}

/** The newest campaigns, newest first. */
export async function listCampaigns(ctx: Pick<StackContext, 'changes'>, limit = 20): Promise<Array<{ campaignId: string; status: string; createdAt: string }>> {
  return (await ctx.changes.list(CAMPAIGN_KIND, limit)).map((r) => ({ campaignId: r.changeId, status: r.status, createdAt: r.createdAt }));
}
