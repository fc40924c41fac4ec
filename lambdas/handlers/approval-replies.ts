import { approvalKeyOf, isApprovalId } from '../domain/approval-link.js';
import { REFUSALS, type Refusal } from '../domain/approval.js';
import { isTerminalStatus } from '../domain/status.js';
import type { ApprovalRecord } from '../stores/approval-store.js';
import { renderMessagePage } from './approval-page.js';
import type { ApprovalServices } from './approval-services.js';
import { emitApprovalLinkRefused } from './governance-metrics.js';
import type { Runtime } from './runtime.js';

/** What the approval API answers: the JSON document and the page, with one status. */
export type Reply = { status: number; json: Record<string, unknown>; html: string };

export function notFound(message: string): Reply {
  return { status: 404, json: { ok: false, reason: 'NOT_FOUND', message }, html: renderMessagePage('Not found', message, 'bad') };
}

export function refused(refusal: Refusal, extra: Record<string, unknown> = {}): Reply {
  return {
    status: refusal.httpStatus,
    json: { ok: false, reason: refusal.reason, reasonCode: refusal.reasonCode, message: refusal.message, ...extra },
    html: renderMessagePage('Refused', `${refusal.reasonCode ?? refusal.reason}: ${refusal.message}`, 'bad'),
  };
}

export const badLink: Refusal = { reason: 'LINK_SIGNATURE_INVALID', message: 'the link is incomplete or malformed', ...REFUSALS.LINK_SIGNATURE_INVALID };

export async function loadRequest(svc: ApprovalServices, approvalId: string): Promise<ApprovalRecord | undefined> {
  return isApprovalId(approvalId) ? svc.approvals.get(approvalKeyOf(approvalId)) : undefined;
}

/**
 * A POST that proves nothing (no request of that id, a bad or missing signature): a metric and a
 * log line, never evidence, so whoever holds an approval id cannot write to a change's chain.
 */
export function refuseUnauthenticated(rt: Runtime, reason: 'NOT_FOUND' | 'LINK_SIGNATURE_INVALID', changeId?: string): void {
  emitApprovalLinkRefused(reason);
  rt.logger.warn('approval POST refused (unauthenticated)', { refusal: reason, ...(changeId ? { changeId } : {}) });
}

/**
 * A refused decision of a genuine link (self approval, not in group, expired, reused) is evidence
 * while the change is open; after it ended, the chain is closed and it is kept on the request.
 * A bad signature is not: it is counted and logged (refuseUnauthenticated).
 */
export async function refuseDecision(rt: Runtime, svc: ApprovalServices, record: ApprovalRecord, refusal: Refusal, claimed: { approver: string; channel: string; decision: string }): Promise<Reply> {
  if (refusal.reason === 'LINK_SIGNATURE_INVALID') {
    refuseUnauthenticated(rt, 'LINK_SIGNATURE_INVALID', record.changeId);
    return refused(refusal, { changeId: record.changeId });
  }
  const data = { refusal: refusal.reason, httpStatus: refusal.httpStatus, approver: claimed.approver, channel: claimed.channel, decision: claimed.decision, message: refusal.message };
  const change = await rt.changes.get(record.changeId);
  if (change && isTerminalStatus(change.status)) {
    await svc.approvals.recordLateRefusal(record.approvalId, { ...data, at: svc.now().toISOString() });
  } else {
    await rt.evidence.record({
      changeId: record.changeId,
      type: 'APPROVAL_REFUSED',
      actor: claimed.approver || 'unauthenticated',
      policyVersion: record.policyVersion,
      ...(refusal.reasonCode ? { reasonCode: refusal.reasonCode } : {}),
      data,
    });
  }
  rt.logger.warn('approval refused', { changeId: record.changeId, refusal: refusal.reason, httpStatus: refusal.httpStatus });
  return refused(refusal, { changeId: record.changeId });
}
