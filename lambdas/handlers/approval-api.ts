import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { parseLinkFields } from '../domain/approval-link.js';
import { judgeLink } from '../domain/approval.js';
import { describeQuorum } from '../domain/approval-rules.js';
import { renderApprovalPage, renderMessagePage, PAGE_HEADERS } from './approval-page.js';
import { decide, standing } from './approval-decision.js';
import { badLink, loadRequest, notFound, refused, type Reply } from './approval-replies.js';
import { approvalServices, type ApprovalServices } from './approval-services.js';
import { ATTESTATION_PATH, attestationHttpCore } from './attestation-api.js';
import { runtime, type Runtime } from './runtime.js';

export { DECISION_TAKEN_WAIT_MS } from './approval-decision.js';

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

const PATH = /^\/approvals\/([^/?#]+)\/?$/;

/**
 * The approval API (docs/approval-api.md): GET shows the plan and changes nothing; POST decides
 * (approval-decision.ts). Refusals: bad signature 403, expired 410, reused 409, approver not
 * allowed 403 with the reason code. A refusal of a genuine link is APPROVAL_REFUSED evidence; a
 * bad signature or an unknown approval id is a metric and a log line only.
 */
export async function approvalHttpCore(rt: Runtime, svc: ApprovalServices, request: HttpRequest): Promise<HttpResponse> {
  const wantsJson = (request.headers.accept ?? '').includes('application/json');
  const method = request.method.toUpperCase();
  const match = PATH.exec(request.path);
  const attestation = ATTESTATION_PATH.exec(request.path);
  let reply: Reply;
  if (attestation?.[1] && attestation[2] && ['GET', 'HEAD', 'POST'].includes(method)) {
    reply = await attestationHttpCore(rt, svc, request, attestation[1], attestation[2]);
  } else if (!match?.[1]) {
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
  const quorum = standing(record);
  const html = renderApprovalPage({
    plan,
    approvalId,
    link,
    afterTheFact: record.afterTheFact,
    expiresAt: record.expiresAt,
    refusal,
    quorum: { text: describeQuorum(quorum), approvedBy: Object.keys(record.approvals ?? {}) },
    ...(record.followUp ? { followUp: record.followUp } : {}),
    ...(record.decision ? { decidedBy: { approver: record.decision.approver, decision: record.decision.decision, decidedAt: record.decision.decidedAt, channel: record.decision.channel } } : {}),
  });
  const json = { ok: verdict.ok, changeId: record.changeId, approver: link.approver, afterTheFact: record.afterTheFact, ...(record.followUp ? { followUp: { round: record.followUp.round, actionIds: [...record.followUp.actionIds] } } : {}), expiresAt: record.expiresAt, status: record.status, stillNeeded: quorum.stillNeeded, approvedBy: Object.keys(record.approvals ?? {}), ...(refusal ? { reason: refusal.reason, reasonCode: refusal.reasonCode, message: refusal.message } : {}) };
  return { status: refusal ? refusal.httpStatus : 200, json, html };
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
