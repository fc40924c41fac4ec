import type { EvidenceType } from './evidence.js';

/**
 * Who may hand over which evidence: per function of FUNCTIONS (infra/resources.ts) with the
 * `evidenceAppend` capability, the draft types its code records, and nothing more. The evidence
 * writer refuses any other draft from it, so a function that may send to the evidence queue (the
 * internet-facing approval API among them) cannot put a `VERIFIED` or `COMPLETED` on a chain.
 * test/unit/domain/evidence-senders.test.ts holds this table to FUNCTIONS and to what each
 * handler's code records.
 */
export const EVIDENCE_SENDERS = {
  plan: ['TRIGGERED', 'PLANNED', 'DECIDED', 'EXEMPTED'],
  'check-stale': ['STALE_CHECKED', 'WRITE_FAILED'],
  'write-action': ['WRITE_ATTEMPTED', 'WRITE_FAILED', 'WRITTEN'],
  // An undo (rollback workflow) is verified by the same function: ROLLED_BACK / ROLLBACK_FAILED.
  'verify-action': ['VERIFIED', 'VERIFY_FAILED', 'ROLLED_BACK', 'ROLLBACK_FAILED'],
  'check-intent': ['PLANNED', 'DECIDED'],
  summarize: ['ROLLBACK_STARTED'],
  complete: ['ESCALATED', 'FINDINGS_ROUTED', 'COMPLETED'],
  'request-approval': ['APPROVAL_REQUESTED'],
  // Approval links and attestation links: decisions and answers of people, never the workflow's outcome.
  'approval-api': ['APPROVED', 'REJECTED', 'APPROVAL_REFUSED', 'ATTESTED'],
  'rollback-plan': ['TRIGGERED', 'PLANNED', 'DECIDED'],
  'rollback-start': ['STALE_CHECKED', 'ROLLBACK_STARTED'],
  'rollback-settle': ['ROLLED_BACK', 'ROLLBACK_FAILED'],
  'finalize-plan': ['TRIGGERED', 'PLANNED', 'DECIDED'],
  'finalize-settle': ['FINALIZED'],
  attestation: ['TRIGGERED', 'DECIDED', 'ATTESTATION_REQUESTED', 'ATTESTATION_ESCALATED', 'FOLLOW_UP_STARTED', 'COMPLETED'],
} as const satisfies Readonly<Record<string, readonly EvidenceType[]>>;

export type EvidenceSender = keyof typeof EVIDENCE_SENDERS;

export const EVIDENCE_SENDER_NAMES = Object.keys(EVIDENCE_SENDERS) as [EvidenceSender, ...EvidenceSender[]];

/**
 * The evidence writer's environment: JSON `{functionName: roleId}` of every sender, the unique id
 * (`AROA…`) of the role each runs as. SQS stamps each message with its sender (`SenderId`,
 * `<roleId>:<session>` for a role's session); the role id says which function sent it.
 */
export const EVIDENCE_SENDERS_ENV = 'NHIGOV_EVIDENCE_SENDER_ROLES';

export function mayHandOver(sender: EvidenceSender, type: EvidenceType): boolean {
  const allowed: readonly EvidenceType[] = EVIDENCE_SENDERS[sender];
  return allowed.includes(type);
}

/** The role id of an SQS `SenderId`: `AROA…:session` of a role session; an IAM user's or the account's id as it is. */
export function senderRoleId(senderId: string): string {
  return senderId.split(':')[0] ?? senderId;
}
