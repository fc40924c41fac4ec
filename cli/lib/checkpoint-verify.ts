import { anchorsOf, checkpointSignatureHolds, verifyCheckpointChain, type ChangeAnchor, type PolicyMark, type SignedCheckpoint } from '../../lambdas/domain/checkpoint.js';
import type { CheckpointStore } from '../../lambdas/stores/checkpoint-store.js';

/** What `evidence verify` says about the signed checkpoints themselves. */
export interface CheckpointReach {
  /** Every checkpoint holds (numbers 1..n, hashes, links, signatures, never written over). */
  readonly ok: boolean;
  readonly count: number;
  readonly latest: { readonly number: number; readonly at: string; readonly hash: string } | null;
  /** The first checkpoint that does not hold; the ones before it are still used. */
  readonly brokenAt?: number;
  readonly reason?: string;
  /** The newest policy ever activated, as the checkpoints record it. */
  readonly policy: PolicyMark | null;
  readonly covers: string;
  readonly cannotCover: readonly string[];
}

export interface Anchors {
  readonly byChange: ReadonlyMap<string, ChangeAnchor>;
  readonly reach: CheckpointReach;
}

const COVERS = 'every event of a change up to the seq of its latest checkpoint: a change checkpointed when it ended is vouched for whole (every event hash), a change in flight up to its last hourly checkpoint';
const CANNOT_COVER = [
  'events appended since the last checkpoint of a change still running (at most an hour of them, or since it started)',
  'post-completion events (ROLLED_BACK, FINALIZED) of a rollback or finalize run still in flight, until that run ends',
  'a change that ran and was deleted whole before any checkpoint named it (it started and was wiped within the hour)',
  'changes that ended before checkpoints were introduced (verified by their hash chains and the changes table only)',
];

/** Reads every checkpoint, verifies the chain of them with the key's public half, and indexes the heads they vouch for. */
export async function loadAnchors(store: CheckpointStore): Promise<Anchors> {
  const stored = await store.listAll();
  const publicKey = stored.length > 0 ? await store.key() : null;
  const readable: SignedCheckpoint[] = [];
  let problem: { brokenAt: number; reason: string } | null = null;
  for (const [index, entry] of stored.entries()) {
    if ('unreadable' in entry.checkpoint) {
      problem = { brokenAt: index + 1, reason: `${entry.key}: ${entry.checkpoint.unreadable}` };
      break;
    }
    if (entry.overwritten && !problem) problem = { brokenAt: index + 1, reason: `${entry.key} was written over (more than one version): the first version is the one trusted` };
    readable.push(entry.checkpoint);
  }
  const chain = verifyCheckpointChain(readable, (c) => publicKey !== null && checkpointSignatureHolds(c, publicKey));
  const held = chain.ok ? readable : readable.slice(0, chain.brokenAt - 1);
  const broken = !chain.ok && (!problem || chain.brokenAt <= problem.brokenAt) ? { brokenAt: chain.brokenAt, reason: chain.reason } : problem;
  const last = held.at(-1);
  return {
    byChange: anchorsOf(held),
    reach: {
      ok: broken === null,
      count: stored.length,
      latest: last ? { number: last.body.number, at: last.body.at, hash: last.hash } : null,
      ...(broken ? broken : {}),
      policy: last?.body.policy ?? null,
      covers: COVERS,
      cannotCover: CANNOT_COVER,
    },
  };
}

const ONE_CHANGE = 'the checkpoints that name this change (found through its by-change markers), each signature verified; `nhigov evidence verify` without a change id also checks the chain of all checkpoints';

/**
 * One change's anchors, without reading every checkpoint: what `evidence CHANGE_ID`, the console
 * and `evidence verify CHANGE_ID` use. (`ids` may add linked changes, to judge their links.)
 */
export async function loadAnchorsFor(store: CheckpointStore, ids: readonly string[]): Promise<Anchors> {
  const found = (await Promise.all([...new Set(ids)].map((id) => store.forChange(id)))).flat();
  const unique = [...new Map(found.map((c) => [c.body.number, c])).values()].sort((a, b) => a.body.number - b.body.number);
  const last = unique.at(-1);
  return {
    byChange: anchorsOf(unique),
    reach: {
      ok: true,
      count: unique.length,
      latest: last ? { number: last.body.number, at: last.body.at, hash: last.hash } : null,
      policy: last?.body.policy ?? null,
      covers: `${ONE_CHANGE}; ${COVERS}`,
      cannotCover: CANNOT_COVER,
    },
  };
}
