import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { approvalKeyOf, normalizeEmail, signApprovalLink, type ApprovalChannel } from '../../lambdas/domain/approval-link.js';
import { ApprovalStore } from '../../lambdas/stores/approval-store.js';
import { createDocumentClient } from '../../lambdas/stores/dynamo.js';
import type { StackContext } from './context.js';
import { OperationFailed, UsageError } from './io.js';

export interface ApproveResult {
  readonly ok: boolean;
  readonly changeId: string;
  readonly approver: string;
  readonly decision: 'approve' | 'reject';
  /** The approval API's HTTP status. */
  readonly httpStatus: number;
  /** On refusal: LINK_SIGNATURE_INVALID, LINK_EXPIRED, ALREADY_DECIDED, APPROVER_NOT_AUTHORIZED, SELF_APPROVAL_FORBIDDEN, ... */
  readonly reason?: string;
  readonly reasonCode?: string | null;
  readonly message?: string;
  /** The change's status once the workflow took the decision. */
  readonly changeStatus?: string;
}

/**
 * Decides through the same signed-link HTTP API the email uses: mints the link for `approver`
 * (the local stack's link key, read from its Secrets Manager) and POSTs the form to the gateway.
 * The API, not the caller, judges who may decide. `channel` is recorded: cli (default) or web (the console).
 */
export async function decideThroughLink(
  ctx: StackContext,
  input: { changeId: string; approver: string; decision: 'approve' | 'reject'; comment?: string; channel?: ApprovalChannel },
): Promise<ApproveResult> {
  const approver = normalizeEmail(input.approver);
  const change = await ctx.changes.get(input.changeId);
  if (!change) throw new UsageError(`no change ${input.changeId}`);
  const approvalId = typeof change.approval?.approvalId === 'string' ? change.approval.approvalId : null;
  if (!approvalId) throw new OperationFailed(`NO_APPROVAL_REQUEST: change ${input.changeId} (${change.status}) has not asked for approval`);
  const channels = ctx.outputs.approvalChannels;
  if (!channels) throw new OperationFailed('this local stack has no approval channels (restart it: nhigov local down && nhigov local up)');
  const store = new ApprovalStore(createDocumentClient(ctx.clients.dynamodb), ctx.outputs.tables.approvals ?? '');
  const request = await store.get(approvalKeyOf(approvalId));
  if (!request) throw new OperationFailed(`NO_APPROVAL_REQUEST: the approval request of ${input.changeId} is gone`);
  const secret = await ctx.clients.secrets.send(new GetSecretValueCommand({ SecretId: channels.linkKeySecretArn, VersionStage: 'AWSCURRENT' }));
  const link = signApprovalLink(Buffer.from(secret.SecretString ?? '', 'utf8'), { approvalId, approver, exp: request.exp, channel: input.channel ?? 'cli' });
  const form = new URLSearchParams({ approver: link.approver, exp: String(link.exp), via: link.channel, sig: link.sig, decision: input.decision, comment: input.comment ?? '' });
  const reply = await fetch(`${ctx.outputs.endpoint}/approvals/${encodeURIComponent(approvalId)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: form.toString(),
  });
  let body: Record<string, unknown> = {};
  try {
    body = (await reply.json()) as Record<string, unknown>;
  } catch {
    body = { reason: 'GATEWAY_ERROR', message: `the approval API answered ${reply.status} without a JSON document` };
  }
  return {
    ok: reply.ok && body.ok === true,
    changeId: input.changeId,
    approver,
    decision: input.decision,
    httpStatus: reply.status,
    ...(typeof body.reason === 'string' ? { reason: body.reason } : {}),
    ...(body.reasonCode !== undefined ? { reasonCode: body.reasonCode as string | null } : {}),
    ...(typeof body.message === 'string' ? { message: body.message } : {}),
    ...(typeof body.changeStatus === 'string' ? { changeStatus: body.changeStatus } : {}),
  };
}

