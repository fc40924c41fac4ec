import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { approvalKeyOf, isApprovalId, parseCallerIdentity, parseLinkFields, type SignedApprovalLink } from '../domain/approval-link.js';
import { judgeLink, REFUSALS, type Refusal } from '../domain/approval.js';
import { describeError } from '../domain/reasons.js';
import { isTerminalStatus } from '../domain/status.js';
import type { ApprovalDecisionRecord, ApprovalRecord } from '../stores/approval-store.js';
import { renderApprovalPage, renderMessagePage, PAGE_HEADERS } from './approval-page.js';
import { approvalServices, isTaskGone, type ApprovalServices } from './approval-services.js';
import { runtime, type Runtime } from './runtime.js';
import { emitApprovalLatency } from './governance-metrics.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** The approval API's view of an HTTP request: the same for a function URL and the local gateway. */
export interface HttpRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
}

export interface HttpResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** How long a decision waits for the workflow to take it, so the answer can say what happens next. */
export const DECISION_TAKEN_WAIT_MS = 5_000;
const MAX_COMMENT_LENGTH = 1000;
const PATH = /^\/approvals\/([^/?#]+)\/?$/;

type Reply = { status: number; json: Record<string, unknown>; html: string };

/**
 * The approval API (docs/approval-api.md): GET shows the plan and changes nothing; POST decides once.
 * Refusals: bad signature 403, expired 410, reused 409, approver not allowed 403 with the reason
 * code; each refused decision is recorded as APPROVAL_REFUSED evidence.
 */
export async function approvalHttpCore(rt: Runtime, svc: ApprovalServices, request: HttpRequest): Promise<HttpResponse> {
  const wantsJson = (request.headers.accept ?? '').includes('application/json');
  const method = request.method.toUpperCase();
  const match = PATH.exec(request.path);
  let reply: Reply;
  if (!match?.[1]) {
    reply = notFound('no such route');
  } else if (method === 'GET' || method === 'HEAD') {
    reply = await view(rt, svc, safeDecode(match[1]), request.query);
  } else if (method === 'POST') {
    reply = await decide(rt, svc, safeDecode(match[1]), request);
  } else {
    return { statusCode: 405, headers: { ...PAGE_HEADERS, allow: 'GET, HEAD, POST' }, body: renderMessagePage('Method not allowed', 'Use GET to review and POST to decide.', 'bad') };
  }
  const body = wantsJson ? JSON.stringify(reply.json) : reply.html;
  return {
    statusCode: reply.status,
    headers: wantsJson ? { ...PAGE_HEADERS, 'content-type': 'application/json' } : { ...PAGE_HEADERS },
    body: method === 'HEAD' ? '' : body,
  };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return '';
  }
}

function notFound(message: string): Reply {
  return { status: 404, json: { ok: false, reason: 'NOT_FOUND', message }, html: renderMessagePage('Not found', message, 'bad') };
}

function refused(refusal: Refusal, extra: Record<string, unknown> = {}): Reply {
  return {
    status: refusal.httpStatus,
    json: { ok: false, reason: refusal.reason, reasonCode: refusal.reasonCode, message: refusal.message, ...extra },
    html: renderMessagePage('Refused', `${refusal.reasonCode ?? refusal.reason}: ${refusal.message}`, 'bad'),
  };
}

const badLink: Refusal = { reason: 'LINK_SIGNATURE_INVALID', message: 'the link is incomplete or malformed', ...REFUSALS.LINK_SIGNATURE_INVALID };

async function loadRequest(svc: ApprovalServices, approvalId: string): Promise<ApprovalRecord | undefined> {
  return isApprovalId(approvalId) ? svc.approvals.get(approvalKeyOf(approvalId)) : undefined;
}

/** GET: renders the plan for the link's approver. Never decides, never writes. */
async function view(rt: Runtime, svc: ApprovalServices, approvalId: string, query: URLSearchParams): Promise<Reply> {
  const record = await loadRequest(svc, approvalId);
  if (!record) return notFound('no such approval request');
  const link = parseLinkFields(approvalId, query);
  if (!link) return refused(badLink);
  const verdict = judgeLink(record, link, await svc.linkKey(), svc.now());
  if (!verdict.ok && verdict.reason === 'LINK_SIGNATURE_INVALID') return refused(verdict);
  const plan = await rt.loadPlan(record.planHash);
  const refusal = verdict.ok ? null : verdict;
  const html = renderApprovalPage({
    plan,
    approvalId,
    link,
    afterTheFact: record.afterTheFact,
    expiresAt: record.expiresAt,
    refusal,
    ...(record.decision ? { decidedBy: { approver: record.decision.approver, decision: record.decision.decision, decidedAt: record.decision.decidedAt, channel: record.decision.channel } } : {}),
  });
  const json = { ok: verdict.ok, changeId: record.changeId, approver: link.approver, afterTheFact: record.afterTheFact, expiresAt: record.expiresAt, status: record.status, ...(refusal ? { reason: refusal.reason, reasonCode: refusal.reasonCode, message: refusal.message } : {}) };
  return { status: refusal ? refusal.httpStatus : 200, json, html };
}

/** POST: decides once, then answers the waiting task (the reason travels in the error name). */
async function decide(rt: Runtime, svc: ApprovalServices, approvalId: string, request: HttpRequest): Promise<Reply> {
  const form = new URLSearchParams(request.body);
  const decision = form.get('decision');
  if (decision !== 'approve' && decision !== 'reject') {
    return { status: 400, json: { ok: false, reason: 'INPUT_INVALID', message: 'decision must be approve or reject' }, html: renderMessagePage('Bad request', 'decision must be approve or reject', 'bad') };
  }
  const record = await loadRequest(svc, approvalId);
  if (!record) return notFound('no such approval request');
  const link = parseLinkFields(approvalId, form);
  const claimed = { approver: (form.get('approver') ?? '').trim().toLowerCase().slice(0, 254), channel: (form.get('via') ?? 'web').slice(0, 16), decision };
  if (!link) return refuseDecision(rt, svc, record, badLink, claimed);
  const verdict = judgeLink(record, link, await svc.linkKey(), svc.now());
  if (!verdict.ok) return refuseDecision(rt, svc, record, verdict, claimed);

  const approvalKey = record.approvalId;
  const comment = (form.get('comment') ?? '').trim().slice(0, MAX_COMMENT_LENGTH);
  const callerIdentity = parseCallerIdentity(form.get('caller'));
  const decided: ApprovalDecisionRecord = { decision, approver: verdict.approver, channel: link.channel, comment, decidedAt: svc.now().toISOString(), ...(callerIdentity ? { callerIdentity } : {}) };
  if (!(await svc.approvals.claim(approvalKey, decided))) {
    const latest = (await svc.approvals.get(approvalKey)) ?? record;
    const again = judgeLink(latest, link, await svc.linkKey(), svc.now());
    return refuseDecision(rt, svc, latest, again.ok ? { reason: 'ALREADY_DECIDED', message: 'this request was decided concurrently', ...REFUSALS.ALREADY_DECIDED } : again, claimed);
  }
  await recordDecision(rt, record, decided, link);
  try {
    if (decision === 'approve') {
      await svc.tasks.succeed(record.taskToken, { decision: 'APPROVED', approver: decided.approver, channel: decided.channel, decidedAt: decided.decidedAt });
    } else {
      // moto drops a failure's cause, and so may any reader: the error name carries the reason.
      await svc.tasks.fail(record.taskToken, 'APPROVAL_REJECTED', `rejected by ${decided.approver} via ${decided.channel}`);
    }
  } catch (error) {
    return undeliverable(rt, svc, record, decided, error);
  }
  const changeStatus = await waitUntilTaken(rt, record.changeId);
  rt.logger.info('approval decided', { changeId: record.changeId, decision, channel: decided.channel, changeStatus });
  const verb = decision === 'approve' ? 'Approved' : 'Rejected';
  const next = decision === 'approve' ? (record.afterTheFact ? 'The containment stays in place.' : 'The change is being applied and verified.') : record.afterTheFact ? 'The containment is being rolled back.' : 'Nothing was written.';
  return {
    status: 200,
    json: { ok: true, changeId: record.changeId, decision: decision === 'approve' ? 'APPROVED' : 'REJECTED', approver: decided.approver, channel: decided.channel, decidedAt: decided.decidedAt, changeStatus },
    html: renderMessagePage(verb, `${verb} by ${decided.approver}. ${next} Change ${record.changeId} is now ${changeStatus}.`, 'ok'),
  };
}

/** Who decided, when, through which channel, with the comment: evidence, and the change's summary. */
async function recordDecision(rt: Runtime, record: ApprovalRecord, decided: ApprovalDecisionRecord, link: SignedApprovalLink): Promise<void> {
  const change = await rt.changes.get(record.changeId);
  await rt.evidence.append({
    changeId: record.changeId,
    type: decided.decision === 'approve' ? 'APPROVED' : 'REJECTED',
    actor: decided.approver,
    policyVersion: record.policyVersion,
    ...(decided.decision === 'reject' ? { reasonCode: 'APPROVAL_REJECTED' as const } : {}),
    data: { decision: decided.decision, approver: decided.approver, channel: link.channel, comment: decided.comment, decidedAt: decided.decidedAt, afterTheFact: record.afterTheFact, approvalRef: record.approvalId.slice(0, 16), requestedAt: record.requestedAt, ...(decided.callerIdentity ? { callerIdentity: decided.callerIdentity } : {}) },
  });
  emitApprovalLatency(Date.parse(decided.decidedAt) - Date.parse(record.requestedAt));
  await rt.changes.update(record.changeId, {
    approval: { ...(change?.approval ?? {}), status: decided.decision === 'approve' ? 'APPROVED' : 'REJECTED', decidedBy: decided.approver, decidedAt: decided.decidedAt, channel: decided.channel, comment: decided.comment, ...(decided.callerIdentity ? { callerIdentity: decided.callerIdentity } : {}) },
  });
}

/** A refused decision is evidence while the change is open; after it ended, the chain is closed. */
async function refuseDecision(rt: Runtime, svc: ApprovalServices, record: ApprovalRecord, refusal: Refusal, claimed: { approver: string; channel: string; decision: string }): Promise<Reply> {
  const data = { refusal: refusal.reason, httpStatus: refusal.httpStatus, approver: claimed.approver, channel: claimed.channel, decision: claimed.decision, message: refusal.message };
  const change = await rt.changes.get(record.changeId);
  if (change && isTerminalStatus(change.status)) {
    await svc.approvals.recordLateRefusal(record.approvalId, { ...data, at: svc.now().toISOString() });
  } else {
    await rt.evidence.append({
      changeId: record.changeId,
      type: 'APPROVAL_REFUSED',
      // An invalid signature proves nothing about who sent it.
      actor: refusal.reason === 'LINK_SIGNATURE_INVALID' ? 'unauthenticated' : claimed.approver || 'unauthenticated',
      policyVersion: record.policyVersion,
      ...(refusal.reasonCode ? { reasonCode: refusal.reasonCode } : {}),
      data,
    });
  }
  rt.logger.warn('approval refused', { changeId: record.changeId, refusal: refusal.reason, httpStatus: refusal.httpStatus });
  return refused(refusal, { changeId: record.changeId });
}

/** The task could not be answered: expired (410), or a transient failure (503, the link stays usable). */
async function undeliverable(rt: Runtime, svc: ApprovalServices, record: ApprovalRecord, decided: ApprovalDecisionRecord, error: unknown): Promise<Reply> {
  if (isTaskGone(error)) {
    await svc.approvals.markExpired(record.approvalId);
    const expired: Refusal = { reason: 'LINK_EXPIRED', message: 'the workflow no longer waits for this decision (the approval timed out)', ...REFUSALS.LINK_EXPIRED };
    return refuseDecision(rt, svc, record, expired, { approver: decided.approver, channel: decided.channel, decision: decided.decision });
  }
  await svc.approvals.release(record.approvalId, decided.decision === 'approve' ? 'APPROVED' : 'REJECTED').catch(() => undefined);
  const message = `the decision could not be delivered to the workflow (${describeError(error)}); it was not taken, try again`;
  const change = await rt.changes.get(record.changeId);
  if (change && !isTerminalStatus(change.status)) {
    await rt.evidence.append({ changeId: record.changeId, type: 'APPROVAL_REFUSED', actor: decided.approver, policyVersion: record.policyVersion, data: { refusal: 'DELIVERY_FAILED', httpStatus: 503, approver: decided.approver, channel: decided.channel, decision: decided.decision, message } });
  }
  rt.logger.error('approval decision not delivered', { changeId: record.changeId, error: describeError(error) });
  return { status: 503, json: { ok: false, reason: 'DELIVERY_FAILED', message }, html: renderMessagePage('Try again', message, 'bad') };
}

/** Waits (bounded) until the workflow has moved the change on from AWAITING_APPROVAL. */
async function waitUntilTaken(rt: Runtime, changeId: string): Promise<string> {
  const deadline = Date.now() + DECISION_TAKEN_WAIT_MS;
  let status = 'AWAITING_APPROVAL';
  while (Date.now() < deadline) {
    status = (await rt.changes.get(changeId))?.status ?? status;
    if (status !== 'AWAITING_APPROVAL') return status;
    await sleep(50);
  }
  return status;
}

/** The Lambda adapter: a function URL event in, a function URL result out. */
export const handler = async (event: LambdaFunctionURLEvent): Promise<LambdaFunctionURLResult> => {
  const rt = runtime();
  const body = event.body ? (event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body) : '';
  const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const response = await approvalHttpCore(rt, approvalServices(rt), {
    method: event.requestContext?.http?.method ?? 'GET',
    path: event.rawPath ?? '/',
    query: new URLSearchParams(event.rawQueryString ?? ''),
    headers,
    body,
  });
  return { statusCode: response.statusCode, headers: response.headers, body: response.body };
};
