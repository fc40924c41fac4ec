import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { approvalKeyOf, normalizeEmail, signApprovalLink, type ApprovalChannel } from '../../lambdas/domain/approval-link.js';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { z } from 'zod';
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
  /** An approval counted toward a quorum: how many more approvals the change needs (0: decided). */
  readonly stillNeeded?: number;
  /** The AWS identity that posted the decision (sts:GetCallerIdentity), recorded with it. */
  readonly callerIdentity: string | null;
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
  const request = await ctx.approvals.get(approvalKeyOf(approvalId));
  if (!request) throw new OperationFailed(`NO_APPROVAL_REQUEST: the approval request of ${input.changeId} is gone`);
  // Only a principal allowed to read the stack's link key can sign a link; who it is goes with the decision.
  const [secret, caller] = await Promise.all([
    ctx.clients.secrets.send(new GetSecretValueCommand({ SecretId: ctx.outputs.approvalLinkKeySecretArn, VersionStage: 'AWSCURRENT' })),
    ctx.clients.sts.send(new GetCallerIdentityCommand({})),
  ]);
  const link = signApprovalLink(Buffer.from(secret.SecretString ?? '', 'utf8'), { approvalId, approver, exp: request.exp, channel: input.channel ?? 'cli' });
  const form = new URLSearchParams({ approver: link.approver, exp: String(link.exp), via: link.channel, sig: link.sig, decision: input.decision, comment: input.comment ?? '', caller: caller.Arn ?? '' });
  const reply = await fetch(new URL(`approvals/${encodeURIComponent(approvalId)}`, withTrailingSlash(ctx.outputs.approvalUrl)), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: form.toString(),
  });
  const answer = approvalAnswerSchema.safeParse(await reply.json().catch(() => null));
  const body: ApprovalAnswer = answer.success ? answer.data : { reason: 'GATEWAY_ERROR', message: `the approval API answered ${reply.status} without its JSON document` };
  return {
    ok: reply.ok && body.ok === true,
    changeId: input.changeId,
    approver,
    decision: input.decision,
    httpStatus: reply.status,
    callerIdentity: caller.Arn ?? null,
    ...(body.reason !== undefined ? { reason: body.reason } : {}),
    ...(body.reasonCode !== undefined ? { reasonCode: body.reasonCode } : {}),
    ...(body.message !== undefined ? { message: body.message } : {}),
    ...(body.changeStatus !== undefined ? { changeStatus: body.changeStatus } : {}),
    ...(body.stillNeeded !== undefined ? { stillNeeded: body.stillNeeded } : {}),
  };
}

/** The approval API's JSON answer (lambdas/handlers/approval-api.ts), the fields the CLI reports. */
const approvalAnswerSchema = z.object({
  ok: z.boolean().optional(),
  reason: z.string().optional(),
  reasonCode: z.string().nullable().optional(),
  message: z.string().optional(),
  changeStatus: z.string().optional(),
  stillNeeded: z.number().int().nonnegative().optional(),
});
type ApprovalAnswer = z.infer<typeof approvalAnswerSchema>;


function withTrailingSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
