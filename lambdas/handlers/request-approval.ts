import { z } from 'zod';
import { approvalKeyOf, approvalLinkUrl, newApprovalId, signApprovalLink, type ApprovalChannel } from '../domain/approval-link.js';
import { eligibleApprovers, quorumOfFacts, requirementsOf, separationOfDuties, type ApprovalFacts, type FollowUpScope } from '../domain/approval.js';
import { describeQuorum } from '../domain/approval-rules.js';
import type { JsonObject, Plan, PlanFollowUp } from '../domain/plan-model.js';
import { AppError, describeError, isAppError } from '../domain/reasons.js';
import { approvalEmail, approvalSlackAnnouncement, approvalSlackDirectMessage, type ApprovalRequestView, type ApproverLink } from '../notifications/approval-message.js';
import { sendEmail } from '../notifications/email.js';
import { postSlackMessage } from '../notifications/slack.js';
import { APPROVAL_RETENTION_SECONDS } from '../stores/approval-store.js';
import { approvalServices, type ApprovalServices } from './approval-services.js';
import { AUTOMATION_ACTOR, parseInput, runtime, type Runtime } from './runtime.js';

/** The Payload of the RequestApproval callback task (lambda:invoke.waitForTaskToken). */
const inputSchema = z.object({
  changeId: z.string().min(1),
  planHash: z.string().regex(/^[0-9a-f]{64}$/),
  /** $$.Task.Token: stored in the approvals table, and nowhere else. */
  taskToken: z.string().min(1),
  /** true: the actions were applied first (emergency containment); a rejection undoes them. */
  afterTheFact: z.boolean().default(false),
  /** The task's TimeoutSeconds (from the policy): links expire with it. */
  timeoutSeconds: z.number().int().positive(),
  /**
   * true: the request for new work found after Apply that the change's decision does not cover
   * (RequestFollowUpApproval). Everything it asks (round, the plan it follows, the new actions, who
   * must approve them and why) is the stored plan's followUp, covered by planHash, not the input's.
   */
  followUp: z.literal(true).optional(),
});
export type RequestApprovalInput = z.infer<typeof inputSchema>;

/** What a request uses of the runtime. */
export type ApprovalRequestRuntime = Pick<Runtime, 'loadPlan' | 'loadPolicy' | 'logger'> & {
  readonly evidence: Pick<Runtime['evidence'], 'record'>;
  readonly changes: Pick<Runtime['changes'], 'get' | 'update'>;
};

/** What a request uses of the approval services: the approvals table (create), the link key and the channels. */
export type ApprovalRequestServices = Pick<ApprovalServices, 'linkKey' | 'slackWebhookUrl' | 'ses' | 'sesSender' | 'baseUrl' | 'now'> & {
  readonly approvals: Pick<ApprovalServices['approvals'], 'create'>;
};

interface Delivery {
  readonly channel: Extract<ApprovalChannel, 'email' | 'slack'>;
  readonly to: string;
  readonly delivered: boolean;
  readonly reasonCode?: string;
  readonly error?: string;
}

/**
 * Asks for a decision: stores the task token under the hash of a fresh approval id, sends each
 * eligible approver their own signed link (email, and a Slack direct message where the policy
 * names their Slack user; the channel only hears of the change), records APPROVAL_REQUESTED
 * (with the approval rules and how many approvals they need) and sets the change
 * AWAITING_APPROVAL. The task then waits until the approval API answers it (once every rule is
 * met, or on the first rejection), or its timeout. A follow-up (new work found after Apply that the
 * change's decision does not cover) is a request of its own, on the grown plan: its own approval
 * id, rules and reasons, and only its new actions shown, all as the plan loaded by planHash says
 * (Plan.followUp, stored and hashed with it); the input only says that this is that request.
 */
export async function requestApprovalCore(rt: ApprovalRequestRuntime, svc: ApprovalRequestServices, input: RequestApprovalInput): Promise<{ requested: true; approvalRef: string; delivered: number }> {
  const { changeId, planHash, taskToken, afterTheFact, timeoutSeconds } = input;
  const plan = await rt.loadPlan(planHash);
  const followUp = input.followUp ? followUpOf(plan, planHash, afterTheFact) : undefined;
  // A follow-up is judged on its own approval (the new work alone), with the plan's separation of duties widened to it.
  const approval = followUp?.approval ?? plan.approval;
  const scope: FollowUpScope | undefined = followUp ? { round: followUp.round, of: followUp.of, actionIds: [...followUp.actionIds], reasons: approval.reasons } : undefined;
  const { policy } = await rt.loadPolicy();
  const now = svc.now();
  const exp = Math.floor(now.getTime() / 1000) + timeoutSeconds;
  const requestedAt = now.toISOString();
  const expiresAt = new Date(exp * 1000).toISOString();
  const facts: ApprovalFacts = {
    status: 'PENDING',
    exp,
    approvers: [...approval.approvers],
    owners: [...approval.owners],
    recipients: [...(approval.recipients ?? [])],
    ...(plan.trigger.requestedBy ? { requestedBy: plan.trigger.requestedBy } : {}),
    forbidOwnerApproval: policy.approval.forbidOwnerApproval,
    forbidRequesterApproval: policy.approval.forbidRequesterApproval,
    rules: [...requirementsOf({ ...(approval.rules ? { rules: approval.rules } : {}), approvers: approval.approvers, group: approval.group })],
    approvals: {},
  };
  const approvalId = newApprovalId();
  const approvalKey = approvalKeyOf(approvalId);
  await svc.approvals.create({
    ...facts,
    approvalId: approvalKey,
    changeId,
    planHash,
    policyVersion: plan.policyVersion,
    taskToken,
    afterTheFact,
    group: approval.group,
    requestedAt,
    expiresAt,
    expiresAtEpoch: exp + APPROVAL_RETENTION_SECONDS,
    version: 0,
    ...(scope ? { followUp: scope } : {}),
  });

  const eligible = eligibleApprovers(facts);
  const barred = facts.approvers.filter((a) => !eligible.includes(a)).map((a) => ({ approver: a, reason: separationOfDuties(facts, a)?.reason ?? 'APPROVER_NOT_AUTHORIZED' }));
  const quorum = quorumOfFacts(facts);
  const view: ApprovalRequestView = { plan, afterTheFact, expiresAt, quorum, ...(scope ? { followUp: scope } : {}) };
  const deliveries = await notifyApprovers(svc, view, approvalId, exp, eligible, policy.approval.slackUserIds ?? {});
  const approvalRef = approvalKey.slice(0, 16);
  await rt.evidence.record({
    changeId,
    type: 'APPROVAL_REQUESTED',
    actor: AUTOMATION_ACTOR,
    policyVersion: plan.policyVersion,
    data: {
      approvalRef,
      planHash,
      ...(scope ? { followUp: { round: scope.round, of: scope.of, actionIds: [...scope.actionIds] } } : {}),
      group: approval.group,
      approvers: eligible,
      barred: barred as unknown as JsonObject[],
      reasons: [...approval.reasons],
      rules: facts.rules?.map((r) => ({ name: r.name, group: r.group, minApprovers: r.minApprovers, reasons: [...r.reasons] })) ?? [],
      stillNeeded: quorum.stillNeeded,
      reachable: quorum.reachable,
      afterTheFact,
      requestedAt,
      expiresAt,
      timeoutSeconds,
      deliveries: deliveries as unknown as JsonObject[],
    },
  });
  const summary = { approvalId, approvalRef, status: 'PENDING', group: approval.group, approvers: eligible, afterTheFact, requestedAt, expiresAt, reasons: [...approval.reasons], approvedBy: [], stillNeeded: quorum.stillNeeded };
  await rt.changes.update(changeId, {
    status: 'AWAITING_APPROVAL',
    approval: scope ? { ...summary, followUp: { round: scope.round, planHash, of: scope.of, actionIds: [...scope.actionIds] }, earlier: await earlierApprovals(rt, changeId) } : summary,
  });
  if (!quorum.reachable) rt.logger.error('the eligible approvers cannot meet every approval rule; the request will time out', { changeId, approvalRef, quorum: describeQuorum(quorum) });
  const delivered = deliveries.filter((d) => d.delivered).length;
  if (delivered === 0) rt.logger.error('no approver could be notified; the request will time out unless decided with nhigov approve', { changeId, approvalRef });
  rt.logger.info('approval requested', { changeId, approvalRef, afterTheFact, approvers: eligible.length, delivered, expiresAt });
  return { requested: true, approvalRef, delivered };
}

/** The follow-up request the grown plan carries (check-intent.ts): asked before its writes, never after the fact. */
function followUpOf(plan: Plan, planHash: string, afterTheFact: boolean): PlanFollowUp {
  if (afterTheFact) throw new AppError('INPUT_INVALID', `a follow-up approval is asked before its writes, not after the fact (plan ${planHash.slice(0, 12)})`);
  if (!plan.followUp) throw new AppError('INPUT_INVALID', `plan ${planHash.slice(0, 12)} of change ${plan.changeId} asks for no follow-up approval`);
  return plan.followUp;
}

/**
 * The change's summary shows the request it waits for (`nhigov approve` signs for its id); the
 * requests decided before it are kept beside it, without their ids.
 */
async function earlierApprovals(rt: ApprovalRequestRuntime, changeId: string): Promise<Array<Record<string, unknown>>> {
  const current = (await rt.changes.get(changeId))?.approval;
  if (!current) return [];
  const { approvalId: _id, earlier, ...decided } = current;
  return [...(Array.isArray(earlier) ? earlier.filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null) : []), decided];
}

/**
 * Each approver's link goes to that approver alone: by email, and by Slack direct message where
 * the policy maps them to a Slack user id. The channel message announces the change and links to
 * nothing that decides.
 */
async function notifyApprovers(svc: ApprovalRequestServices, view: ApprovalRequestView, approvalId: string, exp: number, approvers: readonly string[], slackUserIds: Readonly<Record<string, string>>): Promise<Delivery[]> {
  if (!svc.baseUrl) return [];
  const key = await svc.linkKey();
  const baseUrl = svc.baseUrl;
  const linkFor = (approver: string, channel: ApprovalChannel): ApproverLink => ({
    approver,
    url: approvalLinkUrl(baseUrl, signApprovalLink(key, { approvalId, approver, exp, channel })),
  });
  const deliveries: Delivery[] = [];
  if (svc.sesSender) {
    const from = svc.sesSender;
    for (const approver of approvers) {
      const message = approvalEmail(view, linkFor(approver, 'email'));
      deliveries.push(await attempt('email', approver, () => sendEmail(svc.ses, { from, to: [approver], ...message })));
    }
  }
  const webhook = await svc.slackWebhookUrl().catch(() => null);
  if (webhook) {
    const direct = approvers.flatMap((approver) => {
      const userId = slackUserIds[approver];
      return userId ? [{ approver, userId }] : [];
    });
    deliveries.push(await attempt('slack', 'channel', () => postSlackMessage(webhook, approvalSlackAnnouncement(view, approvers, direct.map((d) => d.approver)))));
    for (const { approver, userId } of direct) {
      deliveries.push(await attempt('slack', `@${userId}`, () => postSlackMessage(webhook, approvalSlackDirectMessage(view, userId, linkFor(approver, 'slack')))));
    }
  }
  return deliveries;
}

async function attempt(channel: Delivery['channel'], to: string, send: () => Promise<unknown>): Promise<Delivery> {
  try {
    await send();
    return { channel, to, delivered: true };
  } catch (error) {
    return { channel, to, delivered: false, reasonCode: isAppError(error) ? error.reasonCode : 'TARGET_UNAVAILABLE', error: describeError(error) };
  }
}

export const handler = async (input: unknown) => {
  const rt = runtime();
  return requestApprovalCore(rt, approvalServices(rt), parseInput(inputSchema, input, 'request-approval'));
};
