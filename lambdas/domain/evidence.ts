import { canonicalJson, sha256Hex } from './canonical.js';
import type { JsonObject } from './plan-model.js';
import type { ReasonCode } from './reasons.js';

export const GENESIS_HASH = '0'.repeat(64);

export const EVIDENCE_TYPES = [
  'TRIGGERED', 'PLANNED', 'DECIDED', 'APPROVAL_REQUESTED', 'APPROVED', 'REJECTED', 'APPROVAL_REFUSED',
  'STALE_CHECKED', 'WRITE_ATTEMPTED', 'WRITE_FAILED', 'WRITTEN', 'VERIFIED', 'VERIFY_FAILED',
  'ROLLBACK_STARTED', 'ROLLED_BACK', 'ROLLBACK_FAILED', 'ESCALATED', 'EXEMPTED', 'FINALIZED', 'COMPLETED',
] as const;
export type EvidenceType = (typeof EVIDENCE_TYPES)[number];

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
  | { readonly ok: false; readonly events: number; readonly brokenAt: number; readonly reason: string };

/** Recomputes a change's chain in seq order; names the first event that does not hold. */
export function verifyChain(events: readonly EvidenceEvent[]): ChainVerdict {
  let prevHash = GENESIS_HASH;
  for (let index = 0; index < events.length; index += 1) {
    const event = events[index] as EvidenceEvent;
    const expectedSeq = index + 1;
    if (event.seq !== expectedSeq) {
      return { ok: false, events: events.length, brokenAt: event.seq, reason: `seq ${event.seq} found where ${expectedSeq} was expected (event deleted, inserted or reordered)` };
    }
    if (event.prevHash !== prevHash) {
      return { ok: false, events: events.length, brokenAt: event.seq, reason: `prevHash does not match the hash of event ${expectedSeq - 1}` };
    }
    const { hash, ...rest } = event;
    if (hashEvidence(rest) !== hash) {
      return { ok: false, events: events.length, brokenAt: event.seq, reason: 'hash does not match the event content (edited)' };
    }
    prevHash = hash;
  }
  return { ok: true, events: events.length };
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
