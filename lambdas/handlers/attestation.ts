import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { approvalKeyOf, attestationLinkDomain, attestationLinkUrl, newApprovalId, signApprovalLink } from '../domain/approval-link.js';
import { attestationSettings, campaignEstate, campaignIdFor, nhisOfOwner, openCampaign, summarizeCampaign, sweepSteps } from '../domain/attestation.js';
import { ATTESTATION_TRIGGER, changeIdForEvent, type GovernanceEvent } from '../domain/events.js';
import { toJsonObject } from '../domain/plan-schema.js';
import { AppError, describeError, REASON_CODES } from '../domain/reasons.js';
import { sendEmail } from '../notifications/email.js';
import { attestationEscalationMail, attestationRequestMail, attestationUnownedMail, attestationUnreadableMail, type Mail } from '../notifications/attestation-message.js';
import { AttestationStore, CAMPAIGN_KIND, CAMPAIGN_OPEN_STATUS, CAMPAIGN_TRIGGER } from '../stores/attestation-store.js';
import { createDocumentClient } from '../stores/dynamo.js';
import { readCampaignEstates } from './attestation-estates.js';
import { startChange } from './ingest.js';
import { AUTOMATION_ACTOR, parseInput, runtime, type Runtime } from './runtime.js';

const email = z.string().trim().toLowerCase().pipe(z.email());

/** The attestation function's input: the schedules' and the CLI's (`nhigov attest start|sweep`). */
const inputSchema = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('start'), owner: email.optional(), requestedBy: z.string().min(1).max(256).optional(), scheduledTime: z.string().min(1).max(64).optional() }),
  z.strictObject({ action: z.literal('sweep'), campaignId: z.string().regex(/^att-[0-9a-f]{24}$/).optional(), asOf: z.iso.datetime({ offset: true }).optional(), scheduledTime: z.string().min(1).max(64).optional() }),
]);

/** What the function uses besides the runtime. */
export interface AttestationServices {
  readonly store: AttestationStore;
  linkKey(): Promise<Buffer>;
  send(to: string, mail: Mail): Promise<{ delivered: boolean; error?: string }>;
  readonly baseUrl: string;
  start(event: GovernanceEvent): Promise<{ changeId: string; duplicate: boolean }>;
  now(): Date;
}

export interface StartResult {
  readonly campaignId: string;
  readonly created: boolean;
  readonly owners: number;
  readonly nhis: number;
  readonly emailsSent: number;
  readonly ownerUnknown: number;
  /** The governed accounts read; empty when the function does not know its account. */
  readonly accounts: readonly string[];
  /** Governed accounts that could not be read (CONNECTOR_ACCESS_DENIED): nobody there was asked. */
  readonly unreadableAccounts: readonly string[];
}

export interface SweepResult {
  readonly campaignId: string;
  readonly escalated: readonly string[];
  readonly lapsed: number;
  readonly followUps: readonly string[];
  readonly closed: string | null;
  readonly emailsSent: number;
}

/**
 * Opens a campaign: every governed NHI of every governed account (of one owner with `owner`),
 * each owner mailed their own signed link, NHIs without an owner reported OWNER_UNKNOWN, accounts
 * that could not be read reported CONNECTOR_ACCESS_DENIED. Evidence on the campaign's chain:
 * TRIGGERED, DECIDED (CONNECTOR_ACCESS_DENIED) per unreadable account, DECIDED (OWNER_UNKNOWN) per
 * unowned NHI, ATTESTATION_REQUESTED per owner.
 */
export async function startCampaign(rt: Runtime, svc: AttestationServices, input: { owner?: string; requestedBy?: string; scheduledTime?: string }): Promise<StartResult> {
  const now = svc.now();
  const { policy, version } = await rt.loadPolicy();
  const settings = attestationSettings(policy);
  const campaignId = campaignIdFor(input.scheduledTime ? `schedule:${input.scheduledTime}` : `demand:${now.toISOString()}:${randomBytes(8).toString('hex')}`);
  const { estates, unreadable } = await readCampaignEstates(rt, policy, campaignId);
  const accounts = estates.flatMap((e) => (e.account !== undefined ? [e.account] : []));
  const nonces = new Map<string, string>();
  const campaign = openCampaign({
    campaignId,
    now,
    requestedBy: input.requestedBy ?? (input.scheduledTime ? 'schedule' : AUTOMATION_ACTOR),
    settings,
    estate: campaignEstate(estates),
    ...(input.owner ? { scopeOwner: input.owner } : {}),
    linkKeyFor: (owner) => {
      const nonce = newApprovalId();
      nonces.set(owner, nonce);
      return approvalKeyOf(nonce);
    },
    ...(accounts.length > 0 ? { accounts } : {}),
    unreadable,
  });
  // Read before the campaign exists: a campaign whose links cannot be signed is not opened.
  const key = await svc.linkKey();
  const created = await svc.store.create(campaign, version);
  const counts = { campaignId, owners: Object.keys(campaign.owners).length, nhis: Object.keys(campaign.nhis).length, accounts, unreadableAccounts: unreadable.map((u) => u.account) };
  if (!created) return { ...counts, created: false, emailsSent: 0, ownerUnknown: 0 };
  const append = (draft: { type: 'TRIGGERED' | 'DECIDED' | 'ATTESTATION_REQUESTED'; actor: string; nhi?: string; reasonCode?: 'OWNER_UNKNOWN' | 'CONNECTOR_ACCESS_DENIED'; data: Record<string, unknown> }) =>
    rt.evidence.append({ changeId: campaignId, policyVersion: version, ...draft, data: toJsonObject(draft.data) });
  await append({
    type: 'TRIGGERED',
    actor: campaign.requestedBy,
    data: {
      detailType: CAMPAIGN_TRIGGER,
      campaignId,
      requestedBy: campaign.requestedBy,
      ...(campaign.scopeOwner ? { owner: campaign.scopeOwner } : {}),
      nhis: counts.nhis,
      owners: counts.owners,
      answerBy: campaign.answerBy,
      actBy: campaign.actBy,
      onNoAnswer: campaign.onNoAnswer,
      ...(accounts.length > 0 ? { accounts } : {}),
      ...(unreadable.length > 0 ? { unreadableAccounts: counts.unreadableAccounts } : {}),
    },
  });
  let emailsSent = 0;
  if (unreadable.length > 0) {
    const route = REASON_CODES.CONNECTOR_ACCESS_DENIED.route;
    const sent = await svc.send(policy.routes[route], attestationUnreadableMail({ campaignId, accounts: unreadable }));
    if (sent.delivered) emailsSent++;
    for (const u of unreadable) {
      await append({ type: 'DECIDED', actor: AUTOMATION_ACTOR, nhi: u.roleArn, reasonCode: 'CONNECTOR_ACCESS_DENIED', data: { account: u.account, roleArn: u.roleArn, message: `account ${u.account} was not read, nobody in it is asked: ${u.message}`, route, to: policy.routes[route], delivered: sent.delivered } });
    }
  }
  const unowned = Object.entries(campaign.nhis).filter(([, n]) => n.owner === null).sort(([a], [b]) => (a < b ? -1 : 1));
  if (unowned.length > 0) {
    const route = REASON_CODES.OWNER_UNKNOWN.route;
    const sent = await svc.send(policy.routes[route], attestationUnownedMail({ campaignId, nhis: unowned }));
    if (sent.delivered) emailsSent++;
    for (const [ref, n] of unowned) await append({ type: 'DECIDED', actor: AUTOMATION_ACTOR, nhi: ref, reasonCode: 'OWNER_UNKNOWN', data: { message: `${ref} has no owner tag: nobody can attest it`, ...accountOf(n), route, to: policy.routes[route], delivered: sent.delivered } });
  }
  const exp = Math.floor(Date.parse(campaign.actBy) / 1000);
  for (const owner of Object.keys(campaign.owners).sort()) {
    const nonce = nonces.get(owner);
    if (!nonce) throw new AppError('INPUT_INVALID', `no link nonce for ${owner}`);
    const link = signApprovalLink(key, { approvalId: nonce, approver: owner, exp, channel: 'email' }, attestationLinkDomain(campaignId));
    const nhis = nhisOfOwner(campaign, owner);
    const sent = await svc.send(owner, attestationRequestMail({ campaignId, owner, nhis, link: attestationLinkUrl(svc.baseUrl, campaignId, link), answerBy: campaign.answerBy, actBy: campaign.actBy, onNoAnswer: campaign.onNoAnswer }));
    if (sent.delivered) emailsSent++;
    const inAccounts = [...new Set(nhis.flatMap(([, n]) => (n.account !== undefined ? [n.account] : [])))].sort();
    await append({ type: 'ATTESTATION_REQUESTED', actor: AUTOMATION_ACTOR, data: { owner, channel: 'email', nhis: nhis.map(([ref]) => ref), ...(inAccounts.length > 0 ? { accounts: inAccounts } : {}), answerBy: campaign.answerBy, linkExpiresAt: campaign.actBy, delivered: sent.delivered, ...(sent.error ? { error: sent.error } : {}) } });
  }
  rt.logger.info('attestation campaign opened', { ...counts, emailsSent });
  return { ...counts, created: true, emailsSent, ownerUnknown: unowned.length };
}

/** An NHI's account for evidence data, when the campaign knows it. */
function accountOf(nhi: { readonly account?: string } | undefined): { account?: string } {
  return nhi?.account !== undefined ? { account: nhi.account } : {};
}

/**
 * One sweep of a campaign (sweepSteps): escalations to manager routes, lapsed NHIs
 * (OWNER_UNKNOWN), follow-up changes started through the change workflow, and closing. Each
 * step is claimed on the campaign record first, so overlapping sweeps do each once.
 */
export async function sweepCampaign(rt: Runtime, svc: AttestationServices, campaignId: string, asOf?: Date): Promise<SweepResult> {
  const stored = await svc.store.get(campaignId);
  if (!stored) throw new AppError('TARGET_NOT_FOUND', `no attestation campaign ${campaignId}`);
  const { campaign, policyVersion } = stored;
  // `nhigov attest sweep --as-of`: the windows judged at another time, which every event it records names.
  const now = asOf ?? svc.now();
  const steps = sweepSteps(campaign, now);
  const asOfData = asOf ? { sweptAsOf: asOf.toISOString() } : {};
  const append = (draft: { type: 'DECIDED' | 'ATTESTATION_ESCALATED' | 'FOLLOW_UP_STARTED'; nhi?: string; reasonCode?: 'OWNER_UNKNOWN'; data: Record<string, unknown> }) =>
    rt.evidence.append({ changeId: campaignId, actor: AUTOMATION_ACTOR, policyVersion, ...draft, data: toJsonObject({ ...draft.data, ...asOfData }) });
  const escalated: string[] = [];
  let emailsSent = 0;
  for (const e of steps.escalations) {
    if (!(await svc.store.claimEscalation(campaignId, e.owner, now.toISOString()))) continue;
    const listed = e.nhis.flatMap((ref) => (campaign.nhis[ref] ? [[ref, campaign.nhis[ref]] as const] : []));
    const sent = await svc.send(e.manager, attestationEscalationMail({ campaignId, owner: e.owner, nhis: listed, actBy: campaign.actBy, onNoAnswer: campaign.onNoAnswer }));
    if (sent.delivered) emailsSent++;
    await append({ type: 'ATTESTATION_ESCALATED', data: { owner: e.owner, to: e.manager, nhis: [...e.nhis], actBy: campaign.actBy, onNoAnswer: campaign.onNoAnswer, delivered: sent.delivered, ...(sent.error ? { error: sent.error } : {}) } });
    escalated.push(e.owner);
  }
  for (let i = 0; i < steps.lapsed.length; i += LAPSE_CHUNK) {
    const chunk = steps.lapsed.slice(i, i + LAPSE_CHUNK);
    if (!(await svc.store.markLapsed(campaignId, chunk))) throw new AppError('TARGET_UNAVAILABLE', `campaign ${campaignId} moved while marking lapsed NHIs: sweep again`);
    for (const ref of chunk) {
      const owner = campaign.nhis[ref]?.owner ?? null;
      await append({ type: 'DECIDED', nhi: ref, reasonCode: 'OWNER_UNKNOWN', data: { message: `nobody attested ${ref} by ${campaign.actBy}`, owner, ...accountOf(campaign.nhis[ref]), onNoAnswer: campaign.onNoAnswer } });
    }
  }
  for (const f of steps.followUps) {
    await svc.store.claimFollowUp(campaignId, changeIdForEvent(f.changeKey), { reason: f.reason, owner: f.owner, ...(f.account !== undefined ? { account: f.account } : {}), nhis: [...f.nhis], eventId: f.changeKey, started: false });
  }
  // Every follow-up claimed and not yet started (by this sweep, or one that ended early) starts now.
  const latest = (await svc.store.get(campaignId))?.campaign ?? campaign;
  const followUps: string[] = [];
  for (const [changeId, f] of Object.entries(latest.followUps).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (f.started) continue;
    const event: GovernanceEvent = { id: f.eventId, detailType: ATTESTATION_TRIGGER.detailType, source: ATTESTATION_TRIGGER.source, detail: { campaignId, reason: f.reason, owner: f.owner, nhis: f.nhis } };
    const started = await svc.start(event);
    await append({ type: 'FOLLOW_UP_STARTED', data: { changeId: started.changeId, reason: f.reason, owner: f.owner, ...accountOf(f), nhis: f.nhis } });
    await svc.store.markStarted(campaignId, changeId);
    followUps.push(started.changeId);
  }
  let closed: string | null = null;
  if (steps.close) {
    const summary = summarizeCampaign((await svc.store.get(campaignId))?.campaign ?? latest);
    // On the chain before the campaign is seen closed: a closed campaign's chain must end with it.
    await rt.evidence.record({ changeId: campaignId, type: 'COMPLETED', actor: AUTOMATION_ACTOR, policyVersion, data: toJsonObject({ ...asOfData, status: steps.close, nhis: summary.nhis, answered: summary.answered, unanswered: summary.unanswered, ownerUnknown: summary.ownerUnknown, ...(summary.unreadableAccounts.length > 0 ? { unreadableAccounts: summary.unreadableAccounts.map((u) => u.account) } : {}), followUps: summary.changes.map((c) => c.changeId) }) });
    if (await svc.store.close(campaignId, steps.close, now.toISOString())) closed = steps.close;
  }
  rt.logger.info('attestation campaign swept', { campaignId, escalated: escalated.length, lapsed: steps.lapsed.length, followUps: followUps.length, closed });
  return { campaignId, escalated, lapsed: steps.lapsed.length, followUps, closed, emailsSent };
}

/** Conditions per NHI in one write stay well inside DynamoDB's expression size. */
const LAPSE_CHUNK = 20;

/** Every open campaign, oldest first. */
export async function openCampaignIds(rt: Runtime): Promise<string[]> {
  const records = await rt.changes.list(CAMPAIGN_KIND, 200);
  return records.filter((r) => r.status === CAMPAIGN_OPEN_STATUS).map((r) => r.changeId).reverse();
}

let services: AttestationServices | undefined;

function attestationServices(rt: Runtime): AttestationServices {
  if (services) return services;
  const { NHIGOV_APPROVAL_HMAC_SECRET_ARN: keyId, NHIGOV_APPROVAL_BASE_URL: baseUrl, NHIGOV_CHANGE_STATE_MACHINE_ARN: stateMachineArn, NHIGOV_SES_SENDER: from } = rt.env;
  if (!keyId || !baseUrl || !stateMachineArn) throw new AppError('INPUT_INVALID', 'the attestation function needs NHIGOV_APPROVAL_HMAC_SECRET_ARN, NHIGOV_APPROVAL_BASE_URL and NHIGOV_CHANGE_STATE_MACHINE_ARN');
  const secrets = new SecretsManagerClient({});
  const ses = new SESv2Client({});
  services = {
    store: new AttestationStore(createDocumentClient(), rt.env.NHIGOV_TABLE_CHANGES),
    async linkKey() {
      const out = await secrets.send(new GetSecretValueCommand({ SecretId: keyId, VersionStage: 'AWSCURRENT' }));
      if (!out.SecretString) throw new AppError('INPUT_INVALID', `secret ${keyId} is empty`);
      return Buffer.from(out.SecretString, 'utf8');
    },
    async send(to, mail) {
      if (!from) return { delivered: false, error: 'NHIGOV_SES_SENDER is not set' };
      try {
        await sendEmail(ses, { from, to: [to], ...mail });
        return { delivered: true };
      } catch (error) {
        return { delivered: false, error: describeError(error) };
      }
    },
    baseUrl,
    start: (event) => startChange(rt.changes, stateMachineArn, event),
    now: () => new Date(),
  };
  return services;
}

export type AttestationResult = { action: 'start'; result: StartResult } | { action: 'sweep'; results: SweepResult[] };

export const handler = async (input: unknown): Promise<AttestationResult> => {
  const parsed = parseInput(inputSchema, input, 'attestation');
  const rt = runtime();
  const svc = attestationServices(rt);
  if (parsed.action === 'start') {
    return { action: 'start', result: await startCampaign(rt, svc, { ...(parsed.owner ? { owner: parsed.owner } : {}), ...(parsed.requestedBy ? { requestedBy: parsed.requestedBy } : {}), ...(parsed.scheduledTime ? { scheduledTime: parsed.scheduledTime } : {}) }) };
  }
  const ids = parsed.campaignId ? [parsed.campaignId] : await openCampaignIds(rt);
  const results: SweepResult[] = [];
  for (const id of ids) results.push(await sweepCampaign(rt, svc, id, parsed.asOf ? new Date(parsed.asOf) : undefined));
  return { action: 'sweep', results };
};
