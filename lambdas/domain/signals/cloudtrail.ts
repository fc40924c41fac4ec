import { z } from 'zod';
import type { GovernanceEvent } from '../events.js';
import { causeOf, ignored, invalid, triggers, type ProviderEnvelope, type SignalContext, type SignalResult, type SignalSource } from './signal.js';

export const CLOUDTRAIL_DETAIL_TYPE = 'AWS API Call via CloudTrail';
const SOURCES = { 'aws.iam': 'iam.amazonaws.com', 'aws.secretsmanager': 'secretsmanager.amazonaws.com' } as const;

/**
 * The write calls that can undo what a change verified on a user, role or secret, or take it out
 * of governance: the rule takes only these (CloudTrail sends every write of the account).
 */
export const WATCHED_WRITES = {
  'iam.amazonaws.com': [
    'UpdateAccessKey', 'CreateAccessKey', 'DeleteAccessKey',
    'PutUserPolicy', 'DeleteUserPolicy', 'PutRolePolicy', 'DeleteRolePolicy',
    'AttachUserPolicy', 'DetachUserPolicy', 'AttachRolePolicy', 'DetachRolePolicy',
    'AddUserToGroup', 'RemoveUserFromGroup',
    'TagUser', 'UntagUser', 'TagRole', 'UntagRole',
    'CreateLoginProfile', 'UpdateLoginProfile', 'DeleteLoginProfile',
    'UpdateSSHPublicKey', 'UpdateSigningCertificate', 'UpdateServiceSpecificCredential',
  ],
  'secretsmanager.amazonaws.com': ['PutSecretValue', 'UpdateSecret', 'UpdateSecretVersionStage', 'RotateSecret', 'RestoreSecret', 'TagResource', 'UntagResource'],
} as const;

/** Where ingest finds the workflow's own write roles (comma-separated ARNs): their calls start nothing. */
export const WORKFLOW_ROLES_ENV = 'NHIGOV_WORKFLOW_ROLE_ARNS';

/** Where ingest finds the member roles' names (comma-separated): the workflow's own in every member account. */
export const MEMBER_ROLES_ENV = 'NHIGOV_MEMBER_ROLE_NAMES';

/** Calls of one NHI within this window start one reconcile (the change id is derived from it). */
export const CLOUDTRAIL_DEDUP_SECONDS = 10;

const detailSchema = z.looseObject({
  eventSource: z.enum([SOURCES['aws.iam'], SOURCES['aws.secretsmanager']]),
  eventName: z.string().min(1).max(128),
  eventTime: z.iso.datetime({ offset: true }),
  eventID: z.string().min(1).max(256),
  errorCode: z.string().max(256).optional(),
  userIdentity: z.looseObject({
    type: z.string().max(64),
    arn: z.string().max(2048).optional(),
    userName: z.string().max(128).optional(),
    sessionContext: z.looseObject({ sessionIssuer: z.looseObject({ arn: z.string().max(2048).optional() }).optional() }).optional(),
  }),
  requestParameters: z.record(z.string(), z.unknown()).nullish(),
});

/** Tags CloudTrail records for TagUser / TagRole / TagResource, and the keys of the Untag calls. */
const tagWrite = z.looseObject({
  tags: z.array(z.looseObject({ key: z.string() })).optional(),
  tagKeys: z.array(z.string()).optional(),
});

/** The governance tags: written only by the workflow (owner moves) or by whoever brings an NHI under governance. */
export const GOVERNANCE_TAG_KEYS: readonly string[] = ['owner', 'nhi-governed'];

/** The cause type of a reconcile started by a governance tag written outside the workflow. */
export const GOVERNANCE_TAG_WRITE = 'governance tag written outside the workflow';

/** The governance tag keys a tagging call writes (empty for any other call). */
export function governanceTagsWritten(detail: { readonly eventName: string; readonly requestParameters?: Record<string, unknown> | null }): string[] {
  if (!/^(Tag|Untag)(User|Role|Resource)$/.test(detail.eventName)) return [];
  const parsed = tagWrite.safeParse(detail.requestParameters ?? {});
  if (!parsed.success) return [];
  const keys = [...(parsed.data.tags ?? []).map((t) => t.key), ...(parsed.data.tagKeys ?? [])];
  return GOVERNANCE_TAG_KEYS.filter((key) => keys.some((k) => k.toLowerCase() === key));
}
type CloudTrailDetail = z.infer<typeof detailSchema>;

const nhiName = z.string().min(1).max(2048).regex(/^[\w+=,.@:/-]+$/, 'an IAM name, a secret name or an ARN');

/** The role ARN without its path: CloudTrail's assumed-role ARN names the role without it. */
function roleName(arn: string): string | null {
  return /:role\/(?:.*\/)?([\w+=,.@-]+)$/.exec(arn)?.[1] ?? null;
}

/**
 * Whether the call was made by one of the workflow's own roles: its write role (by the session's
 * issuing role, or by the role an assumed-role ARN names), or a member role in a member account
 * (by name: only the hub's connector roles may assume it, infra/lib/member-stack.ts). Caller-chosen
 * fields (user agent, session name) are never trusted for this.
 */
export function isWorkflowCall(identity: CloudTrailDetail['userIdentity'], workflowRoleArns: readonly string[], members: { readonly roleNames: readonly string[]; readonly homeAccountId?: string } = { roleNames: [] }): boolean {
  if (identity.type !== 'AssumedRole') return false;
  const issuer = identity.sessionContext?.sessionIssuer?.arn;
  const assumed = /^arn:aws[a-z-]*:sts::(\d{12}):assumed-role\/([\w+=,.@-]+)\//.exec(identity.arn ?? '');
  // A member role acts only in member accounts: in the stack's own account that name is nobody's.
  const inMember = assumed !== null && members.homeAccountId !== undefined && assumed[1] !== members.homeAccountId;
  if (inMember && members.roleNames.includes(assumed[2] ?? '') && (issuer === undefined || issuer.endsWith(`:role/${assumed[2]}`))) return true;
  if (workflowRoleArns.length === 0) return false;
  if (issuer !== undefined) return workflowRoleArns.includes(issuer);
  return assumed !== null && workflowRoleArns.some((arn) => arn.split(':')[4] === assumed[1] && roleName(arn) === assumed[2]);
}

/** The user, role or secret the call wrote to; an access key call without a user name is the caller's own. */
function targetOf(detail: CloudTrailDetail): unknown {
  const params = detail.requestParameters ?? {};
  if (detail.eventSource === SOURCES['aws.secretsmanager']) return params.secretId;
  return params.userName ?? params.roleName ?? (detail.userIdentity.type === 'IAMUser' ? detail.userIdentity.userName : undefined);
}

/**
 * CloudTrail's record of an IAM or Secrets Manager write, as EventBridge delivers it: a reconcile
 * of the NHI written to, at once, so a change made around the workflow is put back within a
 * minute, not at the next schedule. Calls of the workflow's own roles, failed calls and calls
 * naming no NHI are ignored. Calls of one NHI within CLOUDTRAIL_DEDUP_SECONDS share one reconcile.
 */
export const cloudTrailSignal: SignalSource = {
  id: 'CloudTrailIamWrites',
  name: 'CloudTrail (IAM, Secrets Manager writes)',
  bus: 'default',
  detailType: CLOUDTRAIL_DETAIL_TYPE,
  pattern: {
    source: Object.keys(SOURCES),
    'detail-type': [CLOUDTRAIL_DETAIL_TYPE],
    detail: { eventSource: Object.values(SOURCES), eventName: [...new Set(Object.values(WATCHED_WRITES).flat())] },
  },
  matches: (source, detailType) => Object.hasOwn(SOURCES, source) && detailType === CLOUDTRAIL_DETAIL_TYPE,
  toTriggers(envelope: ProviderEnvelope, context: SignalContext = {}): SignalResult {
    const parsed = detailSchema.safeParse(envelope.detail);
    if (!parsed.success) return invalid(parsed.error);
    const detail = parsed.data;
    const call = `${detail.eventSource.split('.')[0]}:${detail.eventName}`;
    const watched: readonly string[] = WATCHED_WRITES[detail.eventSource];
    if (!watched.includes(detail.eventName)) return ignored(`CloudTrail ${call} is not a write that can change a governed NHI`);
    if (detail.errorCode) return ignored(`CloudTrail ${call} failed (${detail.errorCode}): nothing changed`);
    const members = { roleNames: context.memberRoleNames ?? [], ...(context.homeAccountId ? { homeAccountId: context.homeAccountId } : {}) };
    if (isWorkflowCall(detail.userIdentity, context.workflowRoleArns ?? [], members)) return ignored(`CloudTrail ${call} was made by the workflow's own role`);
    const target = nhiName.safeParse(targetOf(detail));
    if (!target.success) return ignored(`CloudTrail ${call} names no user, role or secret`);
    const windowStart = new Date(Math.floor(Date.parse(detail.eventTime) / (CLOUDTRAIL_DEDUP_SECONDS * 1000)) * CLOUDTRAIL_DEDUP_SECONDS * 1000).toISOString();
    // Everything that varies between the calls of one window stays out of the trigger's content (`time`, the call's, is not part of it): one change per NHI and window.
    // A governance tag written by hand is a reconcile of its own kind: it is reported and escalated.
    const tags = governanceTagsWritten(detail).join(',');
    const trigger: GovernanceEvent = {
      id: `${tags ? `cloudtrail-tags:${tags}` : 'cloudtrail'}:${target.data}:${windowStart}`,
      detailType: 'Reconcile Requested',
      source: 'nhigov',
      detail: { scope: { nhi: target.data } },
      time: detail.eventTime,
      cause: causeOf(envelope, { type: tags ? `${GOVERNANCE_TAG_WRITE}: ${tags}` : 'write outside the workflow', reference: `${target.data} since ${windowStart}`, subject: target.data }),
    };
    return triggers([trigger]);
  },
};

/** How many reconciles one window of one NHI may start, each for calls the one before may have missed. */
export const MAX_FOLLOW_UPS = 20;

/** Slack between CloudTrail's clock and the one that stamped the change: within it, the call counts as possibly missed. */
const CLOCK_SLACK_MS = 2_000;

/**
 * The window's reconcile already exists for this call. It covers the call only when it was planned
 * after the call (its record is created before it reads the live state); otherwise the call gets
 * the window's next reconcile: `<id>+`, shared by every call it would have missed in turn.
 */
export function followUpTriggerId(trigger: GovernanceEvent, existingCreatedAt: string): string | null {
  if (trigger.cause?.detailType !== CLOUDTRAIL_DETAIL_TYPE || trigger.time === undefined) return null;
  const callAt = Date.parse(trigger.time);
  const plannedAt = Date.parse(existingCreatedAt);
  if (Number.isNaN(callAt) || Number.isNaN(plannedAt) || callAt + CLOCK_SLACK_MS < plannedAt) return null;
  return `${trigger.id}+`;
}

/** The governance tag keys a reconcile's CloudTrail cause says were written by hand. */
export function governanceTagsOfCause(cause: { readonly detailType: string; readonly type: string } | undefined): string[] {
  if (cause?.detailType !== CLOUDTRAIL_DETAIL_TYPE || !cause.type.startsWith(`${GOVERNANCE_TAG_WRITE}: `)) return [];
  return cause.type.slice(GOVERNANCE_TAG_WRITE.length + 2).split(',').filter((key) => GOVERNANCE_TAG_KEYS.includes(key));
}
