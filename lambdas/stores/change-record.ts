import { z } from 'zod';
import { formatIssues } from '../domain/events.js';
import { AppError, REASON_CODE_NAMES, type ReasonCode } from '../domain/reasons.js';
import { IN_FLIGHT_STATUSES, TERMINAL_STATUSES, type ActionStatus, type ChangeStatus } from '../domain/status.js';

export interface ActionRecord {
  readonly status: ActionStatus;
  readonly attempts: number;
  readonly reasonCode?: ReasonCode;
  readonly observed?: Record<string, unknown>;
}

/** The index of changes (a projection for listing; evidence is the record). Action outcomes are items of their own (ActionStore). */
export interface ChangeRecord {
  readonly changeId: string;
  /** 'change' | 'rollback' | 'attestation' (a campaign: its chain and its record, lambdas/stores/attestation-store.ts): the byKind index lists each newest first. */
  readonly kind: 'change' | 'rollback' | 'attestation';
  readonly status: ChangeStatus;
  readonly trigger: string;
  readonly eventId: string;
  /** sha256 of the trigger's content (triggerContentHash): tells a redelivery from a reused event id. */
  readonly contentHash?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly executionArn?: string;
  readonly planHash?: string;
  readonly policyVersion?: string;
  readonly actionCount?: number;
  readonly reasonCodes?: ReasonCode[];
  readonly approval?: Record<string, unknown>;
  readonly parentChangeId?: string;
}

const reasonCode = z.enum(REASON_CODE_NAMES);
export const actionRecordSchema: z.ZodType<ActionRecord> = z.object({
  status: z.enum(['PLANNED', 'WRITTEN', 'VERIFIED', 'FAILED', 'ROLLED_BACK', 'SKIPPED']),
  attempts: z.number().int().nonnegative(),
  reasonCode: reasonCode.optional(),
  observed: z.record(z.string(), z.unknown()).optional(),
});

/** A changes-table item; storage-only attributes (the evidence seq counter) are dropped. */
export const changeRecordSchema: z.ZodType<ChangeRecord> = z.object({
  changeId: z.string().min(1),
  kind: z.enum(['change', 'rollback', 'attestation']),
  status: z.enum([...IN_FLIGHT_STATUSES, ...TERMINAL_STATUSES]),
  trigger: z.string(),
  eventId: z.string(),
  contentHash: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  executionArn: z.string().optional(),
  planHash: z.string().optional(),
  policyVersion: z.string().optional(),
  actionCount: z.number().int().nonnegative().optional(),
  reasonCodes: z.array(reasonCode).optional(),
  approval: z.record(z.string(), z.unknown()).optional(),
  parentChangeId: z.string().optional(),
});

/** A change with each of its actions' outcomes, by action id (what show, rollback and finalize judge by). */
export interface ChangeWithActions extends ChangeRecord {
  readonly actions: Readonly<Record<string, ActionRecord>>;
}

export function toChangeRecord(item: Record<string, unknown>): ChangeRecord {
  const parsed = changeRecordSchema.safeParse(item);
  if (!parsed.success) throw new AppError('INPUT_INVALID', `change record ${String(item.changeId)} is malformed: ${formatIssues(parsed.error)}`);
  return parsed.data;
}
