import { canonicalJson, sha256Hex } from './canonical.js';
import type { JsonObject } from './plan-model.js';
import type { ReasonCode } from './reasons.js';

export const GENESIS_HASH = '0'.repeat(64);

export const EVIDENCE_TYPES = [
  'TRIGGERED', 'PLANNED', 'DECIDED', 'APPROVAL_REQUESTED', 'APPROVED', 'REJECTED', 'APPROVAL_REFUSED',
  'STALE_CHECKED', 'WRITE_ATTEMPTED', 'WRITE_FAILED', 'WRITTEN', 'VERIFIED', 'VERIFY_FAILED',
  'ROLLBACK_STARTED', 'ROLLED_BACK', 'ROLLBACK_FAILED', 'ESCALATED', 'EXEMPTED', 'FINALIZED', 'COMPLETED',
  // The plan's findings, sent to their reason codes' routes (complete).
  'FINDINGS_ROUTED',
  // An attestation campaign's chain: an owner asked, an answer, an owner's manager told, a follow-up change started.
  'ATTESTATION_REQUESTED', 'ATTESTED', 'ATTESTATION_ESCALATED', 'FOLLOW_UP_STARTED',
  // Before the one evidence writer: a seq taken by a writer that never wrote it, filled by the next one. No longer written; old chains hold it.
  'SEQ_ABANDONED',
] as const;
export type EvidenceType = (typeof EVIDENCE_TYPES)[number];

/**
 * What may be appended to a change's chain after its COMPLETED event: the rollback workflow
 * records ROLLED_BACK / ROLLBACK_FAILED on the change it undid, finalize records FINALIZED on
 * the change it finalizes, and a retried complete step records ESCALATED / FINDINGS_ROUTED / COMPLETED again;
 * chains recorded before the one evidence writer may hold a SEQ_ABANDONED there.
 * Anything else after COMPLETED is refused as an insertion. A workflow that starts appending
 * another type to finished changes must add it here.
 */
export const POST_COMPLETION_TYPES: readonly EvidenceType[] = ['COMPLETED', 'ESCALATED', 'FINDINGS_ROUTED', 'FINALIZED', 'ROLLED_BACK', 'ROLLBACK_FAILED', 'SEQ_ABANDONED'];

/** What a writer supplies; the store adds seq, at, prevHash and hash. */
export interface EvidenceDraft {
  readonly changeId: string;
  readonly type: EvidenceType;
  readonly actor: string;
  readonly policyVersion: string;
  readonly nhi?: string;
  readonly actionId?: string;
  readonly reasonCode?: ReasonCode;
  readonly data: JsonObject;
}

export interface EvidenceEvent extends EvidenceDraft {
  readonly seq: number;
  readonly at: string;
  readonly prevHash: string;
  readonly hash: string;
}

/** hash = sha256(prevHash + canonical JSON of the event without hash). */
export function hashEvidence(event: Omit<EvidenceEvent, 'hash'>): string {
  return sha256Hex(event.prevHash + canonicalJson(withoutUndefined(event)));
}

export function sealEvidence(draft: EvidenceDraft, seq: number, at: string, prevHash: string): EvidenceEvent {
  const unsealed = withoutUndefined({ ...draft, seq, at, prevHash }) as Omit<EvidenceEvent, 'hash'>;
  return { ...unsealed, hash: hashEvidence(unsealed) };
}

export type ChainVerdict =
  | { readonly ok: true; readonly events: number }
  | {
      readonly ok: false;
      readonly events: number;
      /** The seq of the first event that does not hold (for a deleted event: the seq that is missing). */
      readonly brokenAt: number;
      readonly reason: string;
      /** The type of the event found at that position, when there is one. */
      readonly brokenType?: string;
    };

/**
 * Recomputes a change's chain in seq order; names the first event that does not hold.
 * Detects an edited field (hash), a deleted, inserted or reordered event (seq and prevHash).
 * A chain alone cannot show that events were cut off its end: see verifyTrail.
 */
export function verifyChain(events: readonly EvidenceEvent[]): ChainVerdict {
  let prevHash = GENESIS_HASH;
  for (let index = 0; index < events.length; index += 1) {
    const event = events[index] as EvidenceEvent;
    const expectedSeq = index + 1;
    const broken = (reason: string): ChainVerdict => ({ ok: false, events: events.length, brokenAt: expectedSeq, reason, ...(typeof event.type === 'string' ? { brokenType: event.type } : {}) });
    if (event.seq !== expectedSeq) {
      return broken(
        typeof event.seq === 'number' && event.seq > expectedSeq
          ? `event ${expectedSeq} is missing: seq ${event.seq} follows ${expectedSeq - 1} (event deleted, or events reordered)`
          : `seq ${String(event.seq)} found where ${expectedSeq} was expected (event inserted, reordered or renumbered)`,
      );
    }
    if (event.prevHash !== prevHash) {
      return broken(expectedSeq === 1 ? 'prevHash of the first event is not the genesis hash' : `prevHash does not match the hash of event ${expectedSeq - 1} (an event before it was replaced, or this one was moved)`);
    }
    const { hash, ...rest } = event;
    let recomputed: string;
    try {
      recomputed = hashEvidence(rest);
    } catch {
      return broken('the event is not JSON (malformed item)');
    }
    if (recomputed !== hash) return broken('hash does not match the event content (a field was edited, added or removed)');
    prevHash = hash;
  }
  return { ok: true, events: events.length };
}

/** What else is known about the change, to judge whether its chain is whole. */
export interface TrailContext {
  /** The change's recorded status (changes table); null when the change is not indexed. */
  readonly changeStatus?: string | null;
  /** True when the change is terminal or its workflow execution has ended: its chain must be closed. */
  readonly mustBeComplete: boolean;
}

export type TrailVerdict = ChainVerdict & {
  /** The last event of the chain: an auditor who keeps it can later detect a consistent rewrite. */
  readonly head: { readonly seq: number; readonly hash: string } | null;
  /** A COMPLETED event is in the chain. */
  readonly complete: boolean;
  /** Disagreements that are not a broken chain (e.g. the change record and COMPLETED differ). */
  readonly warnings: readonly string[];
};

/**
 * verifyChain, plus what a chain alone cannot show: the chain of a change that has ended must
 * hold its COMPLETED event, and only post-completion events may follow it. So deleting the last
 * event(s) of a finished change is detected (COMPLETED is always among them, unless later
 * workflows appended after it: cutting off only those is not detectable from the chain).
 */
export function verifyTrail(events: readonly EvidenceEvent[], context: TrailContext): TrailVerdict {
  const chain = verifyChain(events);
  const n = events.length;
  const last = events.at(-1);
  const head = last ? { seq: last.seq, hash: last.hash } : null;
  const completedAt = events.findIndex((e) => e.type === 'COMPLETED');
  const complete = completedAt >= 0;
  const warnings: string[] = [];
  if (!chain.ok) return { ...chain, head, complete, warnings };
  const broken = (brokenAt: number, reason: string, brokenType?: string): TrailVerdict => ({ ok: false, events: n, brokenAt, reason, ...(brokenType ? { brokenType } : {}), head, complete, warnings });
  if (n === 0) {
    return context.mustBeComplete || context.changeStatus ? broken(1, 'the change has no evidence at all (every event deleted)') : { ok: true, events: 0, head, complete, warnings };
  }
  if (complete) {
    const inserted = events.slice(completedAt + 1).find((e) => !POST_COMPLETION_TYPES.includes(e.type));
    if (inserted) return broken(inserted.seq, `${inserted.type} recorded after the change COMPLETED (inserted)`, inserted.type);
  }
  if (!context.mustBeComplete) return { ok: true, events: n, head, complete, warnings };
  if (!complete) {
    return broken(n + 1, `the change is ${context.changeStatus ?? 'ended'} but its chain stops at seq ${n} (${last?.type}) without COMPLETED: the last event(s) were deleted`);
  }
  const recorded = [...events].reverse().find((e) => e.type === 'COMPLETED')?.data.status;
  if (context.changeStatus && recorded !== undefined && recorded !== context.changeStatus) {
    warnings.push(`COMPLETED records status ${String(recorded)} but the change record says ${context.changeStatus}`);
  }
  return { ok: true, events: n, head, complete, warnings };
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
