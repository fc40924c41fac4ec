import { setTimeout as sleep } from 'node:timers/promises';
import { parseCallerIdentity, parseLinkFields, type SignedApprovalLink } from '../domain/approval-link.js';
import { eligibleApprovers, judgeLink, quorumOfFacts, REFUSALS, requirementsOf, type Refusal } from '../domain/approval.js';
import { describeQuorum, quorumOf, type Quorum } from '../domain/approval-rules.js';
import type { JsonObject } from '../domain/plan-model.js';
import { toJsonObject } from '../domain/plan-schema.js';
import { describeError } from '../domain/reasons.js';
import { isTerminalStatus } from '../domain/status.js';
import type { ApprovalDecisionRecord, ApprovalRecord } from '../stores/approval-store.js';
import { renderMessagePage } from './approval-page.js';
import { badLink, loadRequest, notFound, refuseDecision, refused, refuseUnauthenticated, type Reply } from './approval-replies.js';
import { isTaskGone, type ApprovalServices } from './approval-services.js';
import { emitApprovalLatency } from './governance-metrics.js';
import type { HttpRequest } from './approval-api.js';
import type { Runtime } from './runtime.js';

/** How long a decision waits for the workflow to take it, so the answer can say what happens next. */
export const DECISION_TAKEN_WAIT_MS = 5_000;
const MAX_COMMENT_LENGTH = 1000;
/** Compare-and-set attempts of one approval against concurrent ones. */
const RECORD_ATTEMPTS = 8;

/**
 * POST: one decision of one approver. A rejection decides the request at once. An approval is
 * recorded on the request (once per approver) and counted against the request's approval rules;
 * the approval that meets every rule decides it and resumes the waiting task. Earlier approvals
 * answer 200 with how many are still needed. Each approval and rejection is one evidence event.
 */
export async function decide(rt: Runtime, svc: ApprovalServices, approvalId: string, request: HttpRequest): Promise<Reply> {
  const form = new URLSearchParams(request.body);
  const decision = form.get('decision');
  if (decision !== 'approve' && decision !== 'reject') {
    return { status: 400, json: { ok: false, reason: 'INPUT_INVALID', message: 'decision must be approve or reject' }, html: renderMessagePage('Bad request', 'decision must be approve or reject', 'bad') };
  }
  const record = await loadRequest(svc, approvalId);
  if (!record) {
    refuseUnauthenticated(rt, 'NOT_FOUND');
    return notFound('no such approval request');
  }
  const link = parseLinkFields(approvalId, form);
  const claimed = { approver: (form.get('approver') ?? '').trim().toLowerCase().slice(0, 254), channel: (form.get('via') ?? 'web').slice(0, 16), decision };
  if (!link) return refuseDecision(rt, svc, record, badLink, claimed);
  const verdict = judgeLink(record, link, await svc.linkKey(), svc.now());
  if (!verdict.ok) return refuseDecision(rt, svc, record, verdict, claimed);

  const comment = (form.get('comment') ?? '').trim().slice(0, MAX_COMMENT_LENGTH);
  const callerIdentity = parseCallerIdentity(form.get('caller'));
  const decided: ApprovalDecisionRecord = { decision, approver: verdict.approver, channel: link.channel, comment, decidedAt: svc.now().toISOString(), ...(callerIdentity ? { callerIdentity } : {}) };
  if (decision === 'approve' && record.approvals !== undefined && record.version !== undefined) return approveTowardQuorum(rt, svc, record, link, decided, claimed);

  // A rejection (or a request made before quorums): the first decision decides.
  if (!(await svc.approvals.claim(record.approvalId, decided))) return refuseAgain(rt, svc, record, link, claimed);
  const quorum = decision === 'approve' ? quorumOf(requirementsOf(record), [decided.approver], eligibleApprovers(record)) : null;
  await recordDecision(rt, record, decided, link, quorum);
  return resumeTask(rt, svc, record, decided);
}

/** The request moved on under this POST: judged again, refused with what it is now. */
async function refuseAgain(rt: Runtime, svc: ApprovalServices, record: ApprovalRecord, link: SignedApprovalLink, claimed: { approver: string; channel: string; decision: string }): Promise<Reply> {
  const latest = (await svc.approvals.get(record.approvalId)) ?? record;
  const again = judgeLink(latest, link, await svc.linkKey(), svc.now());
  return refuseDecision(rt, svc, latest, again.ok ? { reason: 'ALREADY_DECIDED', message: 'this request was decided concurrently', ...REFUSALS.ALREADY_DECIDED } : again, claimed);
}

/**
 * Records an approval by compare-and-set on the request's version: re-read and judged again when
 * another approval landed first, so exactly one approval meets the quorum and resumes the task.
 */
async function approveTowardQuorum(rt: Runtime, svc: ApprovalServices, first: ApprovalRecord, link: SignedApprovalLink, decided: ApprovalDecisionRecord, claimed: { approver: string; channel: string; decision: string }): Promise<Reply> {
  let current = first;
  for (let attempt = 0; attempt < RECORD_ATTEMPTS; attempt++) {
    if (attempt > 0) {
      const latest = await svc.approvals.get(first.approvalId);
      if (!latest) return notFound('no such approval request');
      const verdict = judgeLink(latest, link, await svc.linkKey(), svc.now());
      if (!verdict.ok) return refuseDecision(rt, svc, latest, verdict, claimed);
      current = latest;
    }
    const after = quorumOf(requirementsOf(current), [...Object.keys(current.approvals ?? {}), decided.approver], eligibleApprovers(current));
    const entry = { decidedAt: decided.decidedAt, channel: decided.channel };
    const version = current.version ?? 0;
    if (!(await svc.approvals.recordApproval(current.approvalId, decided.approver, entry, version, after.met ? decided : null))) continue;
    const updated: ApprovalRecord = { ...current, approvals: { ...current.approvals, [decided.approver]: entry }, version: version + 1, ...(after.met ? { status: 'APPROVED' as const, decision: decided } : {}) };
    await recordDecision(rt, updated, decided, link, after);
    if (after.met) return resumeTask(rt, svc, updated, decided);
    rt.logger.info('approval recorded; the quorum is not met yet', { changeId: updated.changeId, stillNeeded: after.stillNeeded });
    const message = `Approved by ${decided.approver}. ${describeQuorum(after)}. Change ${updated.changeId} waits for them.`;
    return {
      status: 200,
      json: { ok: true, changeId: updated.changeId, decision: 'APPROVED', approver: decided.approver, channel: decided.channel, decidedAt: decided.decidedAt, quorumMet: false, stillNeeded: after.stillNeeded, message, changeStatus: 'AWAITING_APPROVAL' },
      html: renderMessagePage('Approved', message, 'ok'),
    };
  }
  return refused({ reason: 'ALREADY_DECIDED', message: 'too many concurrent decisions on this request; try again', ...REFUSALS.ALREADY_DECIDED }, { changeId: first.changeId });
}

/** The request is decided: answer the waiting task (the reason travels in the error name). */
async function resumeTask(rt: Runtime, svc: ApprovalServices, record: ApprovalRecord, decided: ApprovalDecisionRecord): Promise<Reply> {
  const { decision } = decided;
  try {
    if (decision === 'approve') {
      await svc.tasks.succeed(record.taskToken, { decision: 'APPROVED', approver: decided.approver, channel: decided.channel, decidedAt: decided.decidedAt, approvedBy: Object.keys(record.approvals ?? { [decided.approver]: true }) });
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
  const next = whatHappensNext(record, decision);
  return {
    status: 200,
    json: { ok: true, changeId: record.changeId, decision: decision === 'approve' ? 'APPROVED' : 'REJECTED', approver: decided.approver, channel: decided.channel, decidedAt: decided.decidedAt, quorumMet: decision === 'approve', stillNeeded: 0, changeStatus },
    html: renderMessagePage(verb, `${verb} by ${decided.approver}. ${next} Change ${record.changeId} is now ${changeStatus}.`, 'ok'),
  };
}

/** The decision's consequence, in words, for the answer page. */
function whatHappensNext(record: Pick<ApprovalRecord, 'afterTheFact' | 'followUp'>, decision: ApprovalDecisionRecord['decision']): string {
  if (record.followUp) {
    return decision === 'approve'
      ? 'The follow-up actions are being applied and verified.'
      : 'The follow-up actions stay undone: the change ends ESCALATED (INTENT_NOT_HELD); what it applied before stays.';
  }
  if (decision === 'approve') return record.afterTheFact ? 'The containment stays in place.' : 'The change is being applied and verified.';
  return record.afterTheFact ? 'The containment is being rolled back.' : 'Nothing was written.';
}

/** Who decided, when, through which channel, with the comment and the quorum: evidence, and the change's summary. */
async function recordDecision(rt: Runtime, record: ApprovalRecord, decided: ApprovalDecisionRecord, link: SignedApprovalLink, quorum: Quorum | null): Promise<void> {
  const change = await rt.changes.get(record.changeId);
  const approving = decided.decision === 'approve';
  const met = !approving || quorum === null || quorum.met;
  await rt.evidence.record({
    changeId: record.changeId,
    type: approving ? 'APPROVED' : 'REJECTED',
    actor: decided.approver,
    policyVersion: record.policyVersion,
    ...(approving ? {} : { reasonCode: 'APPROVAL_REJECTED' as const }),
    data: {
      decision: decided.decision,
      approver: decided.approver,
      channel: link.channel,
      comment: decided.comment,
      decidedAt: decided.decidedAt,
      afterTheFact: record.afterTheFact,
      approvalRef: record.approvalId.slice(0, 16),
      planHash: record.planHash,
      ...(record.followUp ? { followUp: { round: record.followUp.round, of: record.followUp.of, actionIds: [...record.followUp.actionIds] } } : {}),
      requestedAt: record.requestedAt,
      ...(decided.callerIdentity ? { callerIdentity: decided.callerIdentity } : {}),
      ...(quorum ? { quorum: quorumData(quorum) } : {}),
    },
  });
  emitApprovalLatency(Date.parse(decided.decidedAt) - Date.parse(record.requestedAt));
  const approvedBy = approving ? [...new Set([...Object.keys(record.approvals ?? {}), decided.approver])] : Object.keys(record.approvals ?? {});
  await rt.changes.update(record.changeId, {
    approval: {
      ...(change?.approval ?? {}),
      status: met ? (approving ? 'APPROVED' : 'REJECTED') : 'PENDING',
      approvedBy,
      stillNeeded: met ? 0 : (quorum?.stillNeeded ?? 0),
      ...(met ? { decidedBy: decided.approver, decidedAt: decided.decidedAt, channel: decided.channel, comment: decided.comment, ...(decided.callerIdentity ? { callerIdentity: decided.callerIdentity } : {}) } : {}),
    },
  });
}

function quorumData(quorum: Quorum): JsonObject {
  return toJsonObject({ met: quorum.met, stillNeeded: quorum.stillNeeded, rules: quorum.requirements.map((r) => ({ name: r.name, group: r.group, minApprovers: r.minApprovers, approvedBy: [...r.approvedBy], needed: r.needed })) });
}

/** The task could not be answered: expired (410), or a transient failure (503, the link stays usable). */
async function undeliverable(rt: Runtime, svc: ApprovalServices, record: ApprovalRecord, decided: ApprovalDecisionRecord, error: unknown): Promise<Reply> {
  if (isTaskGone(error)) {
    await svc.approvals.markExpired(record.approvalId);
    const expired: Refusal = { reason: 'LINK_EXPIRED', message: 'the workflow no longer waits for this decision (the approval timed out)', ...REFUSALS.LINK_EXPIRED };
    return refuseDecision(rt, svc, record, expired, { approver: decided.approver, channel: decided.channel, decision: decided.decision });
  }
  await svc.approvals.release(record.approvalId, decided.decision === 'approve' ? 'APPROVED' : 'REJECTED', decided.decision === 'approve' && record.approvals ? decided.approver : undefined).catch(() => undefined);
  const message = `the decision could not be delivered to the workflow (${describeError(error)}); it was not taken, try again`;
  const change = await rt.changes.get(record.changeId);
  if (change && !isTerminalStatus(change.status)) {
    await rt.evidence.record({ changeId: record.changeId, type: 'APPROVAL_REFUSED', actor: decided.approver, policyVersion: record.policyVersion, data: { refusal: 'DELIVERY_FAILED', httpStatus: 503, approver: decided.approver, channel: decided.channel, decision: decided.decision, message } });
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

/** Where a request stands, for the page and the GET answer. */
export function standing(record: ApprovalRecord): Quorum {
  return quorumOfFacts(record);
}
