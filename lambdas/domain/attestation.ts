import { z } from 'zod';
import { sha256Hex } from './canonical.js';
import type { GovernancePolicy } from './policy.js';
import { Estate } from './rules/estate.js';
import type { NhiSnapshot, Snapshot } from './snapshot.js';
import { ownerOf } from './snapshot.js';

/**
 * Owner attestation campaigns (docs/attestation in README, docs/policy.md#attestation): pure
 * logic. A campaign asks each owner, per NHI they own, "still mine and still needed" (KEEP) or
 * "not mine / not needed" (RELEASE). The sweep (run by the schedule, or on demand) turns answers
 * and lapsed windows into steps: follow-up changes, escalations, closing.
 */

export const ATTESTATION_ANSWERS = ['KEEP', 'RELEASE'] as const;
export type AttestationAnswer = (typeof ATTESTATION_ANSWERS)[number];

/** Why a follow-up change disables NHIs: the owner released them, or nobody answered. */
export const FOLLOW_UP_REASONS = ['NOT_NEEDED', 'NO_ANSWER'] as const;
export type FollowUpReason = (typeof FOLLOW_UP_REASONS)[number];

/** Where an NHI of a campaign ended up. */
export const NHI_OUTCOMES = ['KEPT', 'DISABLE_PLANNED', 'OWNER_UNKNOWN'] as const;
export type NhiOutcome = (typeof NHI_OUTCOMES)[number];

/** NHIs one follow-up change takes at most (one conditional write claims them all). */
export const MAX_FOLLOW_UP_NHIS = 40;

export const DEFAULT_ANSWER_WINDOW_SECONDS = 14 * 24 * 3600;
export const DEFAULT_ESCALATION_WINDOW_SECONDS = 7 * 24 * 3600;

export interface AttestationSettings {
  readonly answerWindowSeconds: number;
  readonly escalationWindowSeconds: number;
  readonly onNoAnswer: 'disable' | 'escalate';
  /** The owner's manager route: policy.attestation.managers, else routes.owner. */
  managerOf(owner: string): string;
}

export function attestationSettings(policy: GovernancePolicy): AttestationSettings {
  const a = policy.attestation ?? {};
  return {
    answerWindowSeconds: a.answerWindowSeconds ?? DEFAULT_ANSWER_WINDOW_SECONDS,
    escalationWindowSeconds: a.escalationWindowSeconds ?? DEFAULT_ESCALATION_WINDOW_SECONDS,
    onNoAnswer: a.onNoAnswer ?? 'disable',
    managerOf: (owner) => a.managers?.[owner] ?? policy.routes.owner,
  };
}

const iso = z.string().min(1);
const accountId = z.string().regex(/^\d{12}$/);
const answerRecord = z.strictObject({ answer: z.enum(ATTESTATION_ANSWERS), at: iso, channel: z.string().min(1).max(16) });
export type AnswerRecord = z.infer<typeof answerRecord>;

const campaignNhi = z.strictObject({
  type: z.enum(['user', 'role', 'secret']),
  arn: z.string().min(1),
  owner: z.string().nullable(),
  /** The governed account it lives in (absent: a campaign of a stack that does not know its account). */
  account: accountId.optional(),
  answer: answerRecord.optional(),
  outcome: z.enum(NHI_OUTCOMES).optional(),
  /** The follow-up change that disables it. */
  changeId: z.string().optional(),
});
export type CampaignNhi = z.infer<typeof campaignNhi>;

const campaignOwner = z.strictObject({
  /** sha256 (hex) of the nonce the owner's link carries. */
  linkKey: z.string().regex(/^[0-9a-f]{64}$/),
  manager: z.string().min(1),
  escalatedAt: iso.optional(),
});
export type CampaignOwner = z.infer<typeof campaignOwner>;

const followUp = z.strictObject({
  reason: z.enum(FOLLOW_UP_REASONS),
  owner: z.string().nullable(),
  /** The one account its NHIs live in (absent: not known). */
  account: accountId.optional(),
  nhis: z.array(z.string().min(1)).min(1).max(MAX_FOLLOW_UP_NHIS),
  eventId: z.string().min(1),
  started: z.boolean(),
});
export type FollowUp = z.infer<typeof followUp>;

/** A governed account the campaign could not read (its member role missing or refusing): nobody there was asked. */
const unreadableAccount = z.strictObject({ account: accountId, roleArn: z.string().min(1), message: z.string() });
export type UnreadableCampaignAccount = z.infer<typeof unreadableAccount>;

/** A campaign as stored on its item of the changes table (kind `attestation`). */
export const campaignSchema = z.strictObject({
  campaignId: z.string().regex(/^att-[0-9a-f]{24}$/),
  startedAt: iso,
  requestedBy: z.string().min(1),
  /** Only this owner's NHIs (`nhigov attest start --owner`). */
  scopeOwner: z.string().optional(),
  answerBy: iso,
  actBy: iso,
  onNoAnswer: z.enum(['disable', 'escalate']),
  state: z.enum(['OPEN', 'CLOSED']),
  closedAt: iso.optional(),
  owners: z.record(z.string(), campaignOwner),
  nhis: z.record(z.string(), campaignNhi),
  /** The governed accounts whose NHIs were asked about (absent: a campaign of a stack that does not know its account). */
  accounts: z.array(accountId).optional(),
  /** Governed accounts that could not be read (CONNECTOR_ACCESS_DENIED): the campaign cannot close VERIFIED. */
  unreadableAccounts: z.array(unreadableAccount).optional(),
  /** Follow-up changes by change id. */
  followUps: z.record(z.string(), followUp),
});
export type Campaign = z.infer<typeof campaignSchema>;

/** The campaign id: from the schedule's time (a retried delivery opens no second campaign), or the request. */
export function campaignIdFor(key: string): string {
  return `att-${sha256Hex(`attestation:${key}`).slice(0, 24)}`;
}

export interface EstateNhi {
  readonly ref: string;
  readonly nhi: NhiSnapshot;
  readonly account?: string;
}

/** One governed account's live state, as the campaign read it. */
export interface CampaignAccountEstate {
  readonly account?: string;
  readonly snapshot: Snapshot;
  /** A member account: its NHIs are named by ARN, as in plans and evidence. */
  readonly member?: boolean;
}

/**
 * The governed NHIs of every account read, each with its ref and account. A member account's NHIs
 * are named by ARN (Estate's qualified refs), so a name used in two accounts is two NHIs.
 */
export function campaignEstate(estates: readonly CampaignAccountEstate[]): EstateNhi[] {
  return estates.flatMap((part) => {
    const estate = new Estate(part.snapshot, part.member === true);
    return estate.governed.map((nhi) => ({ ref: estate.ref(nhi), nhi, ...(part.account !== undefined ? { account: part.account } : {}) }));
  });
}

/**
 * A new campaign over the governed NHIs (of one owner when `scopeOwner` is given). `linkKeys`
 * gives each owner's link key (sha256 of a fresh nonce). An NHI without an owner tag is
 * OWNER_UNKNOWN from the start: there is nobody to ask.
 */
export function openCampaign(input: {
  readonly campaignId: string;
  readonly now: Date;
  readonly requestedBy: string;
  readonly settings: AttestationSettings;
  readonly estate: readonly EstateNhi[];
  readonly scopeOwner?: string;
  readonly linkKeyFor: (owner: string) => string;
  /** The accounts read (their NHIs are in `estate`), and those that could not be. */
  readonly accounts?: readonly string[];
  readonly unreadable?: readonly UnreadableCampaignAccount[];
}): Campaign {
  const { now, settings } = input;
  const answerBy = new Date(now.getTime() + settings.answerWindowSeconds * 1000);
  const actBy = new Date(answerBy.getTime() + settings.escalationWindowSeconds * 1000);
  const nhis: Record<string, CampaignNhi> = {};
  const owners: Record<string, CampaignOwner> = {};
  for (const { ref, nhi, account } of input.estate) {
    const owner = ownerOf(nhi);
    if (input.scopeOwner !== undefined && owner !== input.scopeOwner) continue;
    nhis[ref] = { type: nhi.type, arn: nhi.arn, owner, ...(account !== undefined ? { account } : {}), ...(owner === null ? { outcome: 'OWNER_UNKNOWN' as const } : {}) };
    if (owner !== null && !owners[owner]) owners[owner] = { linkKey: input.linkKeyFor(owner), manager: settings.managerOf(owner) };
  }
  return {
    campaignId: input.campaignId,
    startedAt: now.toISOString(),
    requestedBy: input.requestedBy,
    ...(input.scopeOwner !== undefined ? { scopeOwner: input.scopeOwner } : {}),
    answerBy: answerBy.toISOString(),
    actBy: actBy.toISOString(),
    onNoAnswer: settings.onNoAnswer,
    state: 'OPEN',
    owners,
    nhis,
    ...(input.accounts !== undefined ? { accounts: [...input.accounts] } : {}),
    ...(input.unreadable !== undefined && input.unreadable.length > 0 ? { unreadableAccounts: [...input.unreadable] } : {}),
    followUps: {},
  };
}

/** The NHIs an owner is asked about, by ref, in name order. */
export function nhisOfOwner(campaign: Campaign, owner: string): Array<[string, CampaignNhi]> {
  return Object.entries(campaign.nhis)
    .filter(([, n]) => n.owner === owner)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export type AnswerVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'CAMPAIGN_CLOSED' | 'NOT_YOURS' | 'ALREADY_ANSWERED'; readonly httpStatus: 410 | 403 | 409; readonly message: string };

/** Whether `owner` may answer for `ref` now. The link's signature and expiry are judged before this. */
export function judgeAnswer(campaign: Campaign, owner: string, ref: string): AnswerVerdict {
  if (campaign.state !== 'OPEN') return { ok: false, reason: 'CAMPAIGN_CLOSED', httpStatus: 410, message: `campaign ${campaign.campaignId} is closed` };
  const nhi = campaign.nhis[ref];
  if (!nhi || nhi.owner !== owner) return { ok: false, reason: 'NOT_YOURS', httpStatus: 403, message: `${ref} is not one of the NHIs ${owner} was asked about` };
  if (nhi.answer || nhi.outcome) return { ok: false, reason: 'ALREADY_ANSWERED', httpStatus: 409, message: `${ref} was already answered (${nhi.answer?.answer ?? nhi.outcome})` };
  return { ok: true };
}

export interface PlannedFollowUp {
  readonly changeKey: string;
  readonly reason: FollowUpReason;
  readonly owner: string | null;
  /** The one account its NHIs live in (absent: not known). */
  readonly account?: string;
  readonly nhis: readonly string[];
}

export interface Escalation {
  readonly owner: string;
  readonly manager: string;
  readonly nhis: readonly string[];
}

/** What one sweep does, in this order: escalate, mark lapsed NHIs OWNER_UNKNOWN, plan follow-ups, close. */
export interface SweepSteps {
  readonly escalations: readonly Escalation[];
  /** NHIs nobody attested by actBy: they become OWNER_UNKNOWN. */
  readonly lapsed: readonly string[];
  readonly followUps: readonly PlannedFollowUp[];
  /** Set when the campaign closes with this sweep: its terminal status. */
  readonly close: 'VERIFIED' | 'ESCALATED' | null;
}

/**
 * The steps a sweep at `now` takes (idempotent: what is done is recorded on the campaign, and
 * a second sweep finds nothing left). Released NHIs get their follow-up at once; after answerBy
 * each owner with unanswered NHIs is escalated to their manager route; after actBy the
 * unanswered NHIs are OWNER_UNKNOWN and, when the policy says `disable`, disabled. The campaign
 * closes when every NHI has an outcome.
 */
export function sweepSteps(campaign: Campaign, now: Date): SweepSteps {
  if (campaign.state !== 'OPEN') return { escalations: [], lapsed: [], followUps: [], close: null };
  const t = now.getTime();
  const unanswered = Object.entries(campaign.nhis).filter(([, n]) => !n.answer && !n.outcome);
  const escalations: Escalation[] = [];
  if (t >= Date.parse(campaign.answerBy)) {
    for (const [owner, o] of Object.entries(campaign.owners).sort(([a], [b]) => (a < b ? -1 : 1))) {
      const mine = unanswered.filter(([, n]) => n.owner === owner).map(([ref]) => ref);
      if (mine.length > 0 && !o.escalatedAt) escalations.push({ owner, manager: o.manager, nhis: mine.sort() });
    }
  }
  const lapsed = t >= Date.parse(campaign.actBy) ? unanswered.map(([ref]) => ref).sort() : [];
  const released = Object.entries(campaign.nhis).filter(([, n]) => n.answer?.answer === 'RELEASE' && !n.changeId).map(([ref]) => ref);
  const followUps = [
    ...groupFollowUps(campaign, released, 'NOT_NEEDED'),
    ...(campaign.onNoAnswer === 'disable' ? groupFollowUps(campaign, lapsed, 'NO_ANSWER') : []),
  ];
  const settled = new Set(lapsed);
  const allSettled = unanswered.every(([ref]) => settled.has(ref));
  // An account nobody could be asked in is as unresolved as an NHI nobody attested.
  const unresolved = lapsed.length > 0 || (campaign.unreadableAccounts ?? []).length > 0 || Object.values(campaign.nhis).some((n) => n.outcome === 'OWNER_UNKNOWN');
  const close = allSettled ? (unresolved ? 'ESCALATED' : 'VERIFIED') : null;
  return { escalations, lapsed, followUps, close };
}

/**
 * One follow-up per owner, account and reason, at most MAX_FOLLOW_UP_NHIS NHIs each; its key names
 * the campaign and its NHIs. One account per change: the change acts there alone (its trigger's
 * refs name that account), and an account that refuses later holds up none of the others.
 */
function groupFollowUps(campaign: Campaign, refs: readonly string[], reason: FollowUpReason): PlannedFollowUp[] {
  const groups = new Map<string, { owner: string | null; account: string | undefined; refs: string[] }>();
  for (const ref of [...refs].sort()) {
    const nhi = campaign.nhis[ref];
    const owner = nhi?.owner ?? null;
    const key = JSON.stringify([owner ?? '', nhi?.account ?? '']);
    const group = groups.get(key) ?? { owner, account: nhi?.account, refs: [] };
    group.refs.push(ref);
    groups.set(key, group);
  }
  const out: PlannedFollowUp[] = [];
  for (const [, group] of [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    for (let i = 0; i < group.refs.length; i += MAX_FOLLOW_UP_NHIS) {
      const nhis = group.refs.slice(i, i + MAX_FOLLOW_UP_NHIS);
      const changeKey = `attestation:${campaign.campaignId}:${reason}:${sha256Hex(JSON.stringify([group.owner ?? '', nhis])).slice(0, 16)}`;
      out.push({ changeKey, reason, owner: group.owner, ...(group.account !== undefined ? { account: group.account } : {}), nhis });
    }
  }
  return out;
}

export interface CampaignOwnerSummary {
  readonly owner: string;
  readonly manager: string;
  readonly asked: number;
  readonly answered: number;
  readonly kept: number;
  readonly released: number;
  readonly escalatedAt: string | null;
}

export interface CampaignSummary {
  readonly campaignId: string;
  readonly state: Campaign['state'];
  readonly startedAt: string;
  readonly answerBy: string;
  readonly actBy: string;
  readonly nhis: number;
  readonly answered: number;
  readonly unanswered: number;
  readonly ownerUnknown: number;
  /** The governed accounts read; empty for a campaign of a stack that does not know its account. */
  readonly accounts: readonly string[];
  /** Governed accounts that could not be read (CONNECTOR_ACCESS_DENIED): nobody in them was asked. */
  readonly unreadableAccounts: readonly UnreadableCampaignAccount[];
  readonly owners: readonly CampaignOwnerSummary[];
  /** Who answered and who did not, per NHI, with the account it lives in (null: not known). */
  readonly items: ReadonlyArray<{ readonly nhi: string; readonly type: CampaignNhi['type']; readonly account: string | null; readonly owner: string | null; readonly answer: AttestationAnswer | null; readonly answeredAt: string | null; readonly outcome: NhiOutcome | null; readonly changeId: string | null }>;
  /** What it changed: the follow-up changes it started. */
  readonly changes: ReadonlyArray<{ readonly changeId: string; readonly reason: FollowUpReason; readonly owner: string | null; readonly account: string | null; readonly nhis: readonly string[]; readonly started: boolean }>;
}

/** The campaign as `nhigov attest status` and the console show it. */
export function summarizeCampaign(campaign: Campaign): CampaignSummary {
  const entries = Object.entries(campaign.nhis).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const owners = Object.entries(campaign.owners)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([owner, o]) => {
      const mine = entries.filter(([, n]) => n.owner === owner).map(([, n]) => n);
      return {
        owner,
        manager: o.manager,
        asked: mine.length,
        answered: mine.filter((n) => n.answer).length,
        kept: mine.filter((n) => n.answer?.answer === 'KEEP').length,
        released: mine.filter((n) => n.answer?.answer === 'RELEASE').length,
        escalatedAt: o.escalatedAt ?? null,
      };
    });
  return {
    campaignId: campaign.campaignId,
    state: campaign.state,
    startedAt: campaign.startedAt,
    answerBy: campaign.answerBy,
    actBy: campaign.actBy,
    nhis: entries.length,
    answered: entries.filter(([, n]) => n.answer).length,
    unanswered: entries.filter(([, n]) => !n.answer).length,
    ownerUnknown: entries.filter(([, n]) => n.outcome === 'OWNER_UNKNOWN').length,
    accounts: campaign.accounts ?? [],
    unreadableAccounts: campaign.unreadableAccounts ?? [],
    owners,
    items: entries.map(([nhi, n]) => ({ nhi, type: n.type, account: n.account ?? null, owner: n.owner, answer: n.answer?.answer ?? null, answeredAt: n.answer?.at ?? null, outcome: n.outcome ?? null, changeId: n.changeId ?? null })),
    changes: Object.entries(campaign.followUps)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([changeId, f]) => ({ changeId, reason: f.reason, owner: f.owner, account: f.account ?? null, nhis: f.nhis, started: f.started })),
  };
}
