import { generateKeyPairSync, sign } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  anchorsOf,
  checkpointHash,
  checkpointKey,
  checkpointNumberOfKey,
  checkpointSignatureHolds,
  checkpointStatement,
  newerMark,
  nextCheckpoint,
  supersededBy,
  verifyAgainstAnchor,
  verifyCheckpointChain,
  type CheckpointBody,
  type CheckpointHead,
  type PolicyMark,
  type SignedCheckpoint,
} from '../../../lambdas/domain/checkpoint.js';
import { GENESIS_HASH, sealEvidence, type EvidenceEvent, type EvidenceType } from '../../../lambdas/domain/evidence.js';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (i: number) => new Date(T0 + i * 1000).toISOString();

function signBody(body: CheckpointBody, key = privateKey): SignedCheckpoint {
  const hash = checkpointHash(body);
  return { body, hash, keyId: 'arn:aws:kms:us-east-1:123456789012:key/test', signature: sign('sha256', checkpointStatement(hash), key).toString('base64') };
}

function chainOf(headsPerCheckpoint: ReadonlyArray<readonly CheckpointHead[]>, policy: PolicyMark | null = null): SignedCheckpoint[] {
  const out: SignedCheckpoint[] = [];
  headsPerCheckpoint.forEach((heads, i) => out.push(signBody(nextCheckpoint(out.at(-1) ?? null, { at: at(i), reason: 'change-ended', heads, policy }))));
  return out;
}

const holds = (c: SignedCheckpoint) => checkpointSignatureHolds(c, publicKey);

function changeChain(changeId: string, types: readonly EvidenceType[]): EvidenceEvent[] {
  const events: EvidenceEvent[] = [];
  types.forEach((type, i) => events.push(sealEvidence({ changeId, type, actor: 'nhigov:automation', policyVersion: 'p', data: { i } }, i + 1, at(i), events.at(-1)?.hash ?? GENESIS_HASH)));
  return events;
}

const endedHead = (events: readonly EvidenceEvent[]): CheckpointHead => {
  const last = events.at(-1) as EvidenceEvent;
  return { changeId: last.changeId, seq: last.seq, hash: last.hash, ended: true, hashes: events.map((e) => e.hash) };
};

/** The insider's rewrite: change one field of event k and recompute every hash from there on. */
function rewrite(events: readonly EvidenceEvent[], k: number): EvidenceEvent[] {
  const out: EvidenceEvent[] = [];
  for (const e of events) {
    const { hash: _h, prevHash: _p, seq, at: when, ...draft } = e;
    const actor = seq === k ? 'someone-else' : draft.actor;
    out.push(sealEvidence({ ...draft, actor }, seq, when, out.at(-1)?.hash ?? GENESIS_HASH));
  }
  return out;
}

const TYPES: EvidenceType[] = ['TRIGGERED', 'PLANNED', 'DECIDED', 'WRITE_ATTEMPTED', 'WRITTEN', 'VERIFIED', 'COMPLETED'];

describe('the checkpoint chain', () => {
  it('numbers checkpoints from 1, links each to the one before and keeps the newest policy mark', () => {
    const weak: PolicyMark = { version: 'a'.repeat(64), signedAt: '2026-01-01T00:00:00.000Z' };
    const strict: PolicyMark = { version: 'b'.repeat(64), signedAt: '2026-02-01T00:00:00.000Z' };
    const first = signBody(nextCheckpoint(null, { at: at(0), reason: 'policy-activated', heads: [], policy: strict }));
    const second = signBody(nextCheckpoint(first, { at: at(1), reason: 'policy-activated', heads: [], policy: weak }));
    expect(first.body).toMatchObject({ number: 1, previousHash: GENESIS_HASH, policy: strict });
    expect(second.body).toMatchObject({ number: 2, previousHash: first.hash, policy: strict });
    expect(verifyCheckpointChain([first, second], holds)).toEqual({ ok: true, checkpoints: 2 });
    expect(newerMark(weak, strict)).toBe(strict);
    expect(newerMark(null, weak)).toBe(weak);
  });

  it('keys count down so the first key listed is the latest checkpoint', () => {
    expect(checkpointKey(1) > checkpointKey(2)).toBe(true);
    expect(checkpointNumberOfKey(checkpointKey(123_456))).toBe(123_456);
    expect(checkpointNumberOfKey('checkpoints/x.json')).toBeNull();
  });

  it('detects an edited, removed, reordered or foreign-signed checkpoint, naming the first one that does not hold', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 8 }), fc.nat(), fc.constantFrom('edit', 'remove', 'swap', 'foreign'), (n, pick, attack) => {
        const chain = chainOf(Array.from({ length: n }, (_, i) => [{ changeId: `chg-${i}`, seq: 3, hash: 'f'.repeat(64), ended: true }]));
        const k = pick % (n - 1); // 0-based victim, never the last for swap
        const tampered = [...chain];
        if (attack === 'edit') tampered[k] = { ...(chain[k] as SignedCheckpoint), body: { ...(chain[k] as SignedCheckpoint).body, at: at(99) } };
        if (attack === 'remove') tampered.splice(k, 1);
        if (attack === 'swap') [tampered[k], tampered[k + 1]] = [chain[k + 1] as SignedCheckpoint, chain[k] as SignedCheckpoint];
        if (attack === 'foreign') {
          const forged = { ...(chain[k] as SignedCheckpoint).body };
          tampered[k] = signBody(forged, other.privateKey);
        }
        const verdict = verifyCheckpointChain(tampered, holds);
        expect(verdict.ok).toBe(false);
        if (!verdict.ok) expect(verdict.brokenAt).toBe(k + 1);
      }),
    );
  });
});

describe('a chain against its checkpoints', () => {
  const pending = () => false;

  it('a consistent rewrite of any event of an ended change is named at that seq', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: TYPES.length }), (k) => {
        const events = changeChain('chg-a', TYPES);
        const anchor = anchorsOf(chainOf([[endedHead(events)]])).get('chg-a');
        if (!anchor) throw new Error('no anchor');
        const verdict = verifyAgainstAnchor(rewrite(events, k), anchor, pending);
        expect(verdict).toMatchObject({ ok: false, brokenAt: k });
      }),
    );
  });

  it('a cut tail, a change deleted whole and an event added after the ended checkpoint break it', () => {
    const events = changeChain('chg-b', TYPES);
    const anchor = anchorsOf(chainOf([[endedHead(events)]])).get('chg-b');
    if (!anchor) throw new Error('no anchor');
    expect(verifyAgainstAnchor(events, anchor, pending)).toEqual({ ok: true, coveredSeq: 7, uncovered: 0 });
    expect(verifyAgainstAnchor(events.slice(0, 5), anchor, pending)).toMatchObject({ ok: false, brokenAt: 6, reason: expect.stringMatching(/event 6 is missing/) });
    expect(verifyAgainstAnchor([], anchor, pending)).toMatchObject({ ok: false, brokenAt: 1, reason: expect.stringMatching(/deleted whole/) });
    const added = [...events, sealEvidence({ changeId: 'chg-b', type: 'ESCALATED', actor: 'x', policyVersion: 'p', data: {} }, 8, at(8), (events.at(-1) as EvidenceEvent).hash)];
    expect(verifyAgainstAnchor(added, anchor, pending)).toMatchObject({ ok: false, brokenAt: 8, reason: expect.stringMatching(/added after the change ended/) });
  });

  it('a post-completion link of a workflow still running is uncovered, not broken; once that workflow ended it is broken', () => {
    const events = changeChain('chg-c', TYPES);
    const anchor = anchorsOf(chainOf([[endedHead(events)]])).get('chg-c');
    if (!anchor) throw new Error('no anchor');
    const linked = [...events, sealEvidence({ changeId: 'chg-c', type: 'ROLLED_BACK', actor: 'x', policyVersion: 'p', data: { rollbackChangeId: 'chg-rb' } }, 8, at(8), (events.at(-1) as EvidenceEvent).hash)];
    expect(verifyAgainstAnchor(linked, anchor, (id) => id === 'chg-rb')).toEqual({ ok: true, coveredSeq: 7, uncovered: 1 });
    expect(verifyAgainstAnchor(linked, anchor, () => false)).toMatchObject({ ok: false, brokenAt: 8 });
  });

  it('a running change is held to its in-flight heads; events after the last one are uncovered', () => {
    const events = changeChain('chg-d', TYPES.slice(0, 6));
    const inFlight: CheckpointHead = { changeId: 'chg-d', seq: 4, hash: (events[3] as EvidenceEvent).hash, ended: false };
    const anchor = anchorsOf(chainOf([[inFlight]])).get('chg-d');
    if (!anchor) throw new Error('no anchor');
    expect(verifyAgainstAnchor(events, anchor, pending)).toEqual({ ok: true, coveredSeq: 4, uncovered: 2 });
    expect(verifyAgainstAnchor(rewrite(events, 2), anchor, pending)).toMatchObject({ ok: false, brokenAt: 4, reason: expect.stringMatching(/after seq 0 up to seq 4/) });
    expect(verifyAgainstAnchor(rewrite(events, 5), anchor, pending)).toEqual({ ok: true, coveredSeq: 4, uncovered: 2 });
  });
});

describe('policy anti-rollback', () => {
  const mark: PolicyMark = { version: 'b'.repeat(64), signedAt: '2026-02-01T00:00:00.000Z' };
  it('refuses a signature older than the mark, or as old but of another version', () => {
    expect(supersededBy({ version: 'a'.repeat(64), signedAt: '2026-01-01T00:00:00.000Z' }, mark)).toBe(mark);
    expect(supersededBy({ version: 'a'.repeat(64), signedAt: mark.signedAt }, mark)).toBe(mark);
    expect(supersededBy({ version: mark.version, signedAt: mark.signedAt }, mark)).toBeNull();
    expect(supersededBy({ version: 'a'.repeat(64), signedAt: '2026-03-01T00:00:00.000Z' }, mark)).toBeNull();
    expect(supersededBy({ version: 'a'.repeat(64), signedAt: '2020-01-01T00:00:00.000Z' }, null)).toBeNull();
  });
});
