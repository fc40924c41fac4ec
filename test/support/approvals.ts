import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GetUserPolicyCommand } from '@aws-sdk/client-iam';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { parse as parseYaml, stringify } from 'yaml';
import { signApprovalLink, type ApprovalLinkFields, type SignedApprovalLink } from '../../lambdas/domain/approval-link.js';
import { ChangeStore } from '../../lambdas/stores/change-store.js';
import { createDocumentClient } from '../../lambdas/stores/dynamo.js';
import type { ApprovalRecord } from '../../lambdas/stores/approval-store.js';
import { PROJECT_ROOT } from '../../local/build.js';
import type { TestStack } from './local-stack.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** What the tests read of `nhigov show --json`. */
export interface ShowDoc {
  changeId: string;
  status: string;
  reasonCodes: string[];
  approval: { approvalId: string; status: string; afterTheFact: boolean; approvers: string[]; decidedBy?: string; channel?: string; comment?: string } | null;
  actions: Array<{ actionId: string; kind: string; target: { type: string; id: string; nhi: string; account?: string }; status: string; reasonCode: string | null; attempts: number; observed: Record<string, unknown> | null }>;
  evidence: Array<{ type: string; seq: number; actor: string; reasonCode?: string; data: Record<string, unknown> }>;
}

export const APPROVER = 'approver@example.com';
export const SECOPS = 'secops@example.com';
export const LINK_KEY_SECRET = 'nhigov/approval-link-hmac-key';

export function show(stack: TestStack, changeId: string): ShowDoc {
  return stack.json<ShowDoc>(['show', changeId]);
}

/**
 * Waits until the change has `status` (the contract's `wait` also stops at AWAITING_APPROVAL),
 * polling the changes table, then returns `show`'s document.
 */
export async function waitForStatus(stack: TestStack, changeId: string, status: string, timeoutMs = 90_000): Promise<ShowDoc> {
  const changes = new ChangeStore(createDocumentClient(stack.direct.dynamodb), stack.outputs.tables.changes ?? '', stack.outputs.tables.actions ?? '');
  const deadline = Date.now() + timeoutMs;
  let current = (await changes.get(changeId))?.status;
  while (current !== status && Date.now() < deadline) {
    await sleep(100);
    current = (await changes.get(changeId))?.status;
  }
  if (current !== status) throw new Error(`change ${changeId} is ${current}, not ${status}, after ${timeoutMs} ms`);
  return show(stack, changeId);
}

/** The approval item of a change, read straight from moto (it holds the task token). */
export async function approvalRecord(stack: TestStack, changeId: string): Promise<ApprovalRecord> {
  const db = createDocumentClient(stack.direct.dynamodb);
  const out = await db.send(new ScanCommand({ TableName: stack.outputs.tables.approvals, FilterExpression: 'changeId = :c', ExpressionAttributeValues: { ':c': changeId } }));
  const record = out.Items?.[0] as ApprovalRecord | undefined;
  if (!record) throw new Error(`no approval item for ${changeId}`);
  return record;
}

export async function linkKey(stack: TestStack): Promise<Buffer> {
  const out = await stack.direct.secrets.send(new GetSecretValueCommand({ SecretId: LINK_KEY_SECRET }));
  return Buffer.from(out.SecretString ?? '', 'utf8');
}

/** A link signed with the stack's key, as a test's own hand-made one. */
export async function mintLink(stack: TestStack, fields: Omit<ApprovalLinkFields, 'channel'> & { channel?: ApprovalLinkFields['channel'] }): Promise<SignedApprovalLink> {
  return signApprovalLink(await linkKey(stack), { channel: 'web', ...fields });
}

export interface ApiReply {
  status: number;
  body: Record<string, unknown>;
}

/** POSTs the approval form (JSON answer). */
export async function postDecision(stack: TestStack, link: SignedApprovalLink, decision: 'approve' | 'reject', comment = ''): Promise<ApiReply> {
  const form = new URLSearchParams({ approver: link.approver, exp: String(link.exp), via: link.channel, sig: link.sig, decision, comment });
  const reply = await fetch(`${stack.endpoint}/approvals/${link.approvalId}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: form.toString() });
  return { status: reply.status, body: (await reply.json()) as Record<string, unknown> };
}

/** Parses an approval link URL back into its fields. */
export function linkFromUrl(url: string): SignedApprovalLink {
  const parsed = new URL(url);
  const q = parsed.searchParams;
  return {
    approvalId: decodeURIComponent(parsed.pathname.split('/').pop() ?? ''),
    approver: q.get('approver') ?? '',
    exp: Number(q.get('exp')),
    channel: (q.get('via') ?? 'web') as SignedApprovalLink['channel'],
    sig: q.get('sig') ?? '',
  };
}

export interface SentMail {
  source: string;
  subject: string;
  body: string;
  destinations: { ToAddresses?: string[] };
}

/** Mail moto's SES accepted (GET /moto-api/data.json). */
export async function sentMail(stack: TestStack): Promise<SentMail[]> {
  const data = (await (await fetch(`http://127.0.0.1:${stack.port + 1}/moto-api/data.json`)).json()) as { ses?: { Message?: SentMail[] } };
  return data.ses?.Message ?? [];
}

/** What the local Slack sink recorded; `payload.channel` is `@U…` for a direct message, absent for the channel. */
export async function slackMessages(stack: TestStack): Promise<Array<{ payload: { text: string; blocks: Array<Record<string, unknown>>; channel?: string } }>> {
  return ((await (await fetch(`${stack.endpoint}/_sinks/slack`)).json()) as { messages: Array<{ payload: { text: string; blocks: Array<Record<string, unknown>>; channel?: string } }> }).messages;
}

/** The Slack user ids of the default policy's approvers (approval.slackUserIds): their direct messages. */
export const SLACK_USER_IDS: Readonly<Record<string, string>> = { 'approver@example.com': 'U0LOCALAPPR', 'secops@example.com': 'U0LOCALSECOPS' };

/** The approval links in a text (email HTML or a Slack message). */
export function linksIn(text: string): string[] {
  return [...text.replace(/&amp;/g, '&').matchAll(/https?:\/\/[^\s"<>|]+\/approvals\/[^\s"<>|]+/g)].map((m) => m[0]);
}

/** Signs a variant of the default policy with the stack's key and activates it through the CLI. */
export function activatePolicyVariant(stack: TestStack, name: string, change: (policy: Record<string, any>) => void): void {
  const policy = parseYaml(readFileSync(path.join(PROJECT_ROOT, 'policy', 'default-policy.yaml'), 'utf8')) as Record<string, any>;
  change(policy);
  policy.name = name;
  const file = path.join(stack.stateDir, `${name}.yaml`);
  writeFileSync(file, stringify(policy));
  stack.json(['policy', 'sign', file, '--key', path.join(stack.stateDir, 'policy.key')]);
  stack.json(['policy', 'activate', file, '--as', 'policy-admin@example.com']);
}

export async function hasSessionDeny(stack: TestStack, userName: string): Promise<boolean> {
  try {
    await stack.direct.iam.send(new GetUserPolicyCommand({ UserName: userName, PolicyName: 'nhigov-revoke-older-sessions' }));
    return true;
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchEntity' || (error as { name?: string }).name === 'NoSuchEntityException') return false;
    throw error;
  }
}
