/**
 * Signed checkpoints of the evidence chains, on the model of CloudTrail's digest files: each
 * checkpoint names the heads of some changes' chains (an ended change: every event hash), carries
 * the hash of the checkpoint before it (one global chain) and the newest policy ever activated
 * (the anti-rollback high-water mark), and is signed by a key no function uses for anything else.
 * Pure: the S3 and KMS side is lambdas/stores/checkpoint-store.ts.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson, sha256Hex } from './canonical.js';
import { GENESIS_HASH } from './evidence.js';

export const CHECKPOINT_PURPOSE = 'nhigov-evidence-checkpoint/v1';
export const CHECKPOINT_REASONS = ['change-ended', 'scheduled', 'policy-activated'] as const;
export type CheckpointReason = (typeof CHECKPOINT_REASONS)[number];

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);

export const checkpointHeadSchema = z.strictObject({
  changeId: z.string().min(1),
  seq: z.number().int().nonnegative(),
  hash: z.string(),
  /** The change had ended (COMPLETED) when checkpointed: nothing but linked post-completion events may follow. */
  ended: z.boolean(),
  /** Every event hash, seq 1..seq (ended changes): names the first rewritten event exactly. */
  hashes: z.array(z.string()).optional(),
});
export type CheckpointHead = z.infer<typeof checkpointHeadSchema>;

/** The newest signed policy ever activated; a runtime refuses an active policy signed before it. */
export const policyMarkSchema = z.strictObject({ version: hex64, signedAt: z.iso.datetime({ offset: true }) });
export type PolicyMark = z.infer<typeof policyMarkSchema>;

export const checkpointBodySchema = z.strictObject({
  purpose: z.literal(CHECKPOINT_PURPOSE),
  /** 1, 2, 3, ...: the object key is derived from it, so two writers cannot both take one number. */
  number: z.number().int().positive(),
  /** hash of checkpoint number - 1; GENESIS_HASH for the first. */
  previousHash: hex64,
  at: z.iso.datetime({ offset: true }),
  reason: z.enum(CHECKPOINT_REASONS),
  heads: z.array(checkpointHeadSchema),
  policy: policyMarkSchema.nullable(),
});
export type CheckpointBody = z.infer<typeof checkpointBodySchema>;

export const signedCheckpointSchema = z.strictObject({
  body: checkpointBodySchema,
  /** sha256 of the body's canonical JSON. */
  hash: hex64,
  /** The signing key (KMS key ARN). */
  keyId: z.string().min(1),
  /** ECDSA P-256 / SHA-256 (DER) over checkpointStatement(hash), base64. */
  signature: z.string().min(1),
});
export type SignedCheckpoint = z.infer<typeof signedCheckpointSchema>;

export function checkpointHash(body: CheckpointBody): string {
  return sha256Hex(canonicalJson(body));
}

/** What the key signs: a short statement naming the body's hash (KMS RAW messages are limited to 4 KB). */
export function checkpointStatement(hash: string): Buffer {
  return Buffer.from(`${CHECKPOINT_PURPOSE}:${hash}`, 'utf8');
}

/** The later of two marks (by signedAt); the first one on a tie. */
export function newerMark(current: PolicyMark | null, candidate: PolicyMark | null): PolicyMark | null {
  if (!candidate) return current;
  if (!current) return candidate;
  return Date.parse(candidate.signedAt) > Date.parse(current.signedAt) ? candidate : current;
}

/** The next checkpoint's body after `previous` (null: the first one). */
export function nextCheckpoint(previous: SignedCheckpoint | null, input: { at: string; reason: CheckpointReason; heads: readonly CheckpointHead[]; policy: PolicyMark | null }): CheckpointBody {
  return {
    purpose: CHECKPOINT_PURPOSE,
    number: (previous?.body.number ?? 0) + 1,
    previousHash: previous?.hash ?? GENESIS_HASH,
    at: input.at,
    reason: input.reason,
    heads: [...input.heads],
    policy: newerMark(previous?.body.policy ?? null, input.policy),
  };
}

/** A public key from KMS GetPublicKey (SPKI DER). */
export function checkpointPublicKey(der: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
}

export function checkpointSignatureHolds(checkpoint: SignedCheckpoint, publicKey: KeyObject): boolean {
  try {
    return verify('sha256', checkpointStatement(checkpoint.hash), publicKey, Buffer.from(checkpoint.signature, 'base64'));
  } catch {
    return false;
  }
}

export type CheckpointChainVerdict =
  | { readonly ok: true; readonly checkpoints: number }
  | { readonly ok: false; readonly checkpoints: number; readonly brokenAt: number; readonly reason: string };

/**
 * The checkpoints, sorted by number, must be 1..n, each hashing to its hash, naming the hash of
 * the one before, signed by the key. Names the first checkpoint that does not hold.
 */
export function verifyCheckpointChain(checkpoints: readonly SignedCheckpoint[], signatureHolds: (c: SignedCheckpoint) => boolean): CheckpointChainVerdict {
  let previousHash = GENESIS_HASH;
  for (let index = 0; index < checkpoints.length; index += 1) {
    const checkpoint = checkpoints[index] as SignedCheckpoint;
    const expected = index + 1;
    const broken = (reason: string): CheckpointChainVerdict => ({ ok: false, checkpoints: checkpoints.length, brokenAt: expected, reason });
    if (checkpoint.body.number !== expected) return broken(`checkpoint ${expected} is missing (found ${checkpoint.body.number})`);
    if (checkpointHash(checkpoint.body) !== checkpoint.hash) return broken('the checkpoint does not hash to its hash (edited)');
    if (checkpoint.body.previousHash !== previousHash) return broken(`previousHash does not match checkpoint ${expected - 1}`);
    if (!signatureHolds(checkpoint)) return broken('the signature does not verify with the checkpoint key');
    previousHash = checkpoint.hash;
  }
  return { ok: true, checkpoints: checkpoints.length };
}

/** What the checkpoints say about one change. */
export interface ChangeAnchor {
  /** Every head checkpointed for the change, in checkpoint order. */
  readonly heads: ReadonlyArray<CheckpointHead & { readonly checkpoint: number; readonly at: string }>;
  /** The latest head checkpointed as ended, if any. */
  readonly ended: (CheckpointHead & { readonly checkpoint: number; readonly at: string }) | null;
}

export function anchorsOf(checkpoints: readonly SignedCheckpoint[]): Map<string, ChangeAnchor> {
  const anchors = new Map<string, { heads: Array<CheckpointHead & { checkpoint: number; at: string }>; ended: (CheckpointHead & { checkpoint: number; at: string }) | null }>();
  for (const { body } of checkpoints) {
    for (const head of body.heads) {
      const anchor = anchors.get(head.changeId) ?? { heads: [], ended: null };
      const entry = { ...head, checkpoint: body.number, at: body.at };
      anchor.heads.push(entry);
      if (head.ended && (!anchor.ended || head.seq >= anchor.ended.seq)) anchor.ended = entry;
      anchors.set(head.changeId, anchor);
    }
  }
  return anchors;
}

/** An event's link to the workflow that appended it to a finished change (ROLLED_BACK, FINALIZED). */
export function linkedChangeOf(event: { readonly type: string; readonly data: Readonly<Record<string, unknown>> }): string | null {
  const link = event.type === 'FINALIZED' ? event.data.finalizeChangeId : event.type === 'ROLLED_BACK' || event.type === 'ROLLBACK_FAILED' ? event.data.rollbackChangeId : undefined;
  return typeof link === 'string' && link.length > 0 ? link : null;
}

export interface AnchoredEvent {
  readonly seq: number;
  readonly hash: string;
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export type AnchorVerdict =
  | {
      readonly ok: true;
      /** The highest seq a checkpoint vouches for. */
      readonly coveredSeq: number;
      /** Events after it (a running change's latest events, or links of workflows still running). */
      readonly uncovered: number;
    }
  | { readonly ok: false; readonly brokenAt: number; readonly reason: string; readonly coveredSeq: number };

/**
 * The chain (in seq order, as read from the table) against its checkpoints: fewer events than
 * checkpointed (cut, or deleted whole), an event whose hash is not the checkpointed one
 * (rewritten, even consistently), or an event after the checkpoint of an ended change that is
 * not the link of a workflow still running (`isPending`) all break it.
 */
export function verifyAgainstAnchor(events: readonly AnchoredEvent[], anchor: ChangeAnchor, isPending: (linkedChangeId: string) => boolean): AnchorVerdict {
  const coveredSeq = Math.max(0, ...anchor.heads.map((h) => h.seq));
  const broken = (brokenAt: number, reason: string): AnchorVerdict => ({ ok: false, brokenAt, reason, coveredSeq });
  const bySeq = new Map(events.map((e) => [e.seq, e]));
  const found: Array<{ seq: number; reason: string }> = [];
  const noteRewrite = (seq: number, reason: string) => found.push({ seq, reason });
  for (const head of anchor.heads) {
    head.hashes?.forEach((hash, index) => {
      const event = bySeq.get(index + 1);
      if (event && event.hash !== hash) noteRewrite(index + 1, `the event is not the one checkpointed in checkpoint ${head.checkpoint} (rewritten)`);
    });
    const event = bySeq.get(head.seq);
    if (head.seq > 0 && event && event.hash !== head.hash) {
      const before = anchor.heads.filter((h) => h.seq < head.seq && bySeq.get(h.seq)?.hash === h.hash).at(-1)?.seq ?? 0;
      noteRewrite(head.seq, `the head checkpointed in checkpoint ${head.checkpoint} is not in the chain: an event after seq ${before} up to seq ${head.seq} was rewritten`);
    }
  }
  const missing = Array.from({ length: coveredSeq }, (_, i) => i + 1).find((seq) => !bySeq.has(seq));
  if (missing !== undefined) {
    found.push({
      seq: missing,
      reason: events.length === 0 ? `the change was deleted whole: checkpoint ${anchor.heads.at(-1)?.checkpoint} vouches for ${coveredSeq} event(s), none is left` : `event ${missing} is missing: the checkpoints vouch for ${coveredSeq} event(s), ${events.length} are left`,
    });
  }
  if (anchor.ended) {
    const after = events.filter((e) => e.seq > coveredSeq);
    const added = after.find((e) => {
      const link = linkedChangeOf(e);
      return !link || !isPending(link);
    });
    if (added) found.push({ seq: added.seq, reason: `${added.type} added after the change ended and was checkpointed (checkpoint ${anchor.ended.checkpoint})` });
  }
  const first = found.sort((a, b) => a.seq - b.seq)[0];
  if (first) return broken(first.seq, first.reason);
  return { ok: true, coveredSeq, uncovered: events.filter((e) => e.seq > coveredSeq).length };
}

/** Which signed policy wins: a policy signed before the high-water mark was superseded. */
export function supersededBy(signature: { readonly version: string; readonly signedAt: string }, mark: PolicyMark | null): PolicyMark | null {
  if (!mark) return null;
  const signedAt = Date.parse(signature.signedAt);
  const markAt = Date.parse(mark.signedAt);
  if (signedAt < markAt) return mark;
  if (signedAt === markAt && signature.version !== mark.version) return mark;
  return null;
}

/** The object key of checkpoint n: numbers count down, so a listing's first key is the latest checkpoint. */
export const CHECKPOINT_PREFIX = 'checkpoints/';
const KEY_SPACE = 10 ** 13;

export function checkpointKey(number: number): string {
  return `${CHECKPOINT_PREFIX}${String(KEY_SPACE - number).padStart(13, '0')}.json`;
}

/**
 * An empty marker per change a checkpoint names, so one change's checkpoints are found without
 * reading them all. Only an index: trust comes from the signed checkpoint it points to.
 */
export const CHECKPOINT_INDEX_PREFIX = 'by-change/';

export function checkpointIndexKey(changeId: string, number: number): string {
  return `${CHECKPOINT_INDEX_PREFIX}${changeId}/${String(KEY_SPACE - number).padStart(13, '0')}`;
}

export function checkpointNumberOfIndexKey(key: string): number | null {
  const match = /^by-change\/[^/]+\/(\d{13})$/.exec(key);
  return match ? KEY_SPACE - Number(match[1]) : null;
}

export function checkpointNumberOfKey(key: string): number | null {
  const match = /^checkpoints\/(\d{13})\.json$/.exec(key);
  return match ? KEY_SPACE - Number(match[1]) : null;
}
