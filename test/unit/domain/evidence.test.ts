import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EVIDENCE_TYPES,
  POST_COMPLETION_TYPES,
  GENESIS_HASH,
  hashEvidence,
  sealEvidence,
  verifyChain,
  verifyTrail,
  type EvidenceDraft,
  type EvidenceEvent,
  type EvidenceType,
} from '../../../lambdas/domain/evidence.js';
import type { JsonObject, JsonValue } from '../../../lambdas/domain/plan-model.js';

const CHANGE = 'chg-0123456789abcdef01234567';
const T0 = Date.parse('2025-03-01T10:00:00.000Z');

const jsonLeaf: fc.Arbitrary<JsonValue> = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.boolean(), fc.constant(null));
const jsonData: fc.Arbitrary<JsonObject> = fc.dictionary(
  fc.string({ minLength: 1, maxLength: 8 }),
  fc.oneof(jsonLeaf, fc.array(jsonLeaf, { maxLength: 3 }), fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }), jsonLeaf, { maxKeys: 3 })),
  { maxKeys: 4 },
);
const innerType = fc.constantFrom(...EVIDENCE_TYPES.filter((t) => t !== 'COMPLETED'));
/** Types nothing may append after COMPLETED. */
const midFlightType = fc.constantFrom(...EVIDENCE_TYPES.filter((t) => !POST_COMPLETION_TYPES.includes(t)));

const draft = (type: fc.Arbitrary<EvidenceType>): fc.Arbitrary<EvidenceDraft> =>
  fc.record(
    {
      changeId: fc.constant(CHANGE),
      type,
      actor: fc.constantFrom('nhigov:automation', 'hr.system', 'approver@example.com'),
      policyVersion: fc.constantFrom('a'.repeat(64), 'b'.repeat(64)),
      nhi: fc.constantFrom('svc-build', 'role-deploy', 'secret-db'),
      actionId: fc.constantFrom('a1', 'a2', 'a3'),
      reasonCode: fc.constantFrom('VERIFY_TIMEOUT' as const, 'EXEMPTED' as const),
      data: jsonData,
    },
    { requiredKeys: ['changeId', 'type', 'actor', 'policyVersion', 'data'] },
  );

function seal(drafts: readonly EvidenceDraft[]): EvidenceEvent[] {
  const events: EvidenceEvent[] = [];
  drafts.forEach((d, i) => events.push(sealEvidence(d, i + 1, new Date(T0 + i * 1000).toISOString(), events[i - 1]?.hash ?? GENESIS_HASH)));
  return events;
}

/** A finished change's chain: TRIGGERED ... COMPLETED. */
const closedChain = fc
  .tuple(fc.array(draft(innerType), { minLength: 1, maxLength: 10 }), draft(fc.constant('COMPLETED' as const)))
  .map(([inner, last]) => seal([...inner, { ...last, data: { ...last.data, status: 'VERIFIED' } }]));

const ENDED = { changeStatus: 'VERIFIED', mustBeComplete: true } as const;

/** One field of one event changed to a different value (never a no-op). */
type Edit = (event: EvidenceEvent) => EvidenceEvent;
const edits: fc.Arbitrary<Edit> = fc.oneof(
  innerType.map((type) => (e: EvidenceEvent) => ({ ...e, type: type !== e.type ? type : e.type === 'ESCALATED' ? 'TRIGGERED' : 'ESCALATED' })),
  fc.string({ minLength: 1, maxLength: 10 }).map((actor) => (e: EvidenceEvent) => ({ ...e, actor: `${e.actor}${actor}` })),
  fc.integer({ min: 1, max: 100_000 }).map((ms) => (e: EvidenceEvent) => ({ ...e, at: new Date(Date.parse(e.at) + ms).toISOString() })),
  fc.constant((e: EvidenceEvent) => ({ ...e, policyVersion: e.policyVersion === 'c'.repeat(64) ? 'd'.repeat(64) : 'c'.repeat(64) })),
  fc.tuple(fc.string({ minLength: 1, maxLength: 6 }), jsonLeaf).map(([key, value]) => (e: EvidenceEvent) => ({ ...e, data: { ...e.data, [`x-${key}`]: value } })),
  fc.constant((e: EvidenceEvent) => ({ ...e, data: Object.keys(e.data).length ? Object.fromEntries(Object.entries(e.data).slice(1)) : { added: true } })),
  fc.constant((e: EvidenceEvent) => ({ ...e, nhi: `${e.nhi ?? ''}-other` })),
  fc.constant((e: EvidenceEvent) => ({ ...e, reasonCode: e.reasonCode === 'EXEMPTED' ? ('POLICY_INVALID' as const) : ('EXEMPTED' as const) })),
  fc.constant((e: EvidenceEvent) => ({ ...e, changeId: `${e.changeId}x` })),
  fc.constant((e: EvidenceEvent) => {
    const { actionId: _a, ...rest } = e;
    return e.actionId === undefined ? { ...e, actionId: 'a9' } : rest;
  }),
  fc.integer({ min: 1, max: 5 }).map((d) => (e: EvidenceEvent) => ({ ...e, seq: e.seq + d })),
  fc.constant((e: EvidenceEvent) => ({ ...e, prevHash: flipHex(e.prevHash) })),
  fc.constant((e: EvidenceEvent) => ({ ...e, hash: flipHex(e.hash) })),
  fc.constant((e: EvidenceEvent) => ({ ...e, extra: 'smuggled' }) as EvidenceEvent),
);

function flipHex(hex: string): string {
  return (hex[0] === '0' ? '1' : '0') + hex.slice(1);
}

describe('evidence chain', () => {
  it('verifies every chain it sealed, and the first prevHash is 64 zeros', () => {
    fc.assert(
      fc.property(closedChain, (events) => {
        expect(verifyChain(events)).toEqual({ ok: true, events: events.length });
        expect(verifyTrail(events, ENDED).ok).toBe(true);
        expect(events[0]?.prevHash).toBe(GENESIS_HASH);
      }),
    );
  });

  it('hash = sha256(prevHash + canonical JSON of the event without hash)', () => {
    const event = sealEvidence({ changeId: CHANGE, type: 'TRIGGERED', actor: 'hr.system', policyVersion: 'p', data: { b: 1, a: 'x' } }, 1, '2025-03-01T10:00:00.000Z', GENESIS_HASH);
    const { hash, ...rest } = event;
    expect(hash).toBe(hashEvidence(rest));
    // Pinned, computed by hand from the contract's rule: changing the rule would break every stored chain.
    const canonical = `{"actor":"hr.system","at":"2025-03-01T10:00:00.000Z","changeId":"${CHANGE}","data":{"a":"x","b":1},"policyVersion":"p","prevHash":"${GENESIS_HASH}","seq":1,"type":"TRIGGERED"}`;
    expect(hash).toBe(createHash('sha256').update(GENESIS_HASH + canonical).digest('hex'));
    expect(hash).toBe('de5549346a5ac42b691291bd08800223b9a899d92bc69f81b04e953cf01ed960');
  });

  it('detects any single edit of any field, naming the edited event', () => {
    fc.assert(
      fc.property(closedChain, fc.nat(), edits, (events, pick, edit) => {
        const k = pick % events.length;
        const tampered = events.map((e, i) => (i === k ? edit(e) : e));
        const verdict = verifyChain(tampered);
        expect(verdict.ok).toBe(false);
        if (!verdict.ok) expect(verdict.brokenAt).toBe(k + 1);
        expect(verifyTrail(tampered, ENDED).ok).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('detects the deletion of any event, the last one included (the chain of a finished change must be closed)', () => {
    fc.assert(
      fc.property(closedChain, fc.nat(), (events, pick) => {
        const k = pick % events.length;
        const tampered = events.filter((_, i) => i !== k);
        const verdict = verifyTrail(tampered, ENDED);
        expect(verdict.ok).toBe(false);
        if (!verdict.ok) expect(verdict.brokenAt).toBe(k + 1);
        if (k < events.length - 1) expect(verifyChain(tampered).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('detects any reordering of two events, naming the first moved one', () => {
    fc.assert(
      fc.property(closedChain.filter((e) => e.length >= 2), fc.nat(), fc.nat(), (events, a, b) => {
        const i = a % events.length;
        let j = b % events.length;
        if (i === j) j = (j + 1) % events.length;
        const tampered = [...events];
        [tampered[i], tampered[j]] = [tampered[j] as EvidenceEvent, tampered[i] as EvidenceEvent];
        const verdict = verifyChain(tampered);
        expect(verdict.ok).toBe(false);
        if (!verdict.ok) expect(verdict.brokenAt).toBe(Math.min(i, j) + 1);
      }),
      { numRuns: 300 },
    );
  });

  it('detects a renumbered swap too (seq values kept in place, contents exchanged)', () => {
    fc.assert(
      fc.property(closedChain.filter((e) => e.length >= 2), fc.nat(), (events, a) => {
        const i = a % (events.length - 1);
        const tampered = [...events];
        tampered[i] = { ...(events[i + 1] as EvidenceEvent), seq: i + 1 };
        tampered[i + 1] = { ...(events[i] as EvidenceEvent), seq: i + 2 };
        const verdict = verifyChain(tampered);
        expect(verdict.ok).toBe(false);
        if (!verdict.ok) expect(verdict.brokenAt).toBe(i + 1);
      }),
    );
  });

  it('detects an inserted event, even one sealed onto its predecessor with the right seq', () => {
    fc.assert(
      fc.property(closedChain, fc.nat(), draft(innerType), fc.boolean(), (events, pick, forged, wellSealed) => {
        const k = pick % events.length; // insert before events[k]
        const prev = events[k - 1];
        const event = wellSealed
          ? sealEvidence(forged, k + 1, events[k]?.at ?? new Date(T0).toISOString(), prev?.hash ?? GENESIS_HASH)
          : sealEvidence(forged, k + 1, new Date(T0).toISOString(), flipHex(prev?.hash ?? GENESIS_HASH));
        const tampered = [...events.slice(0, k), event, ...events.slice(k)];
        const verdict = verifyChain(tampered);
        expect(verdict.ok).toBe(false);
        if (!verdict.ok) expect([k + 1, k + 2]).toContain(verdict.brokenAt);
      }),
      { numRuns: 300 },
    );
  });

  it('detects a mid-flight event appended after COMPLETED, even a well-sealed one', () => {
    fc.assert(
      fc.property(closedChain, draft(midFlightType), (events, forged) => {
        const last = events.at(-1) as EvidenceEvent;
        const tampered = [...events, sealEvidence(forged, last.seq + 1, last.at, last.hash)];
        expect(verifyChain(tampered).ok).toBe(true);
        for (const context of [ENDED, { changeStatus: 'APPLYING', mustBeComplete: false }]) {
          const verdict = verifyTrail(tampered, context);
          expect(verdict.ok).toBe(false);
          if (!verdict.ok) expect(verdict.brokenAt).toBe(tampered.length);
        }
      }),
    );
  });

  it('names the missing event when the first one is deleted', () => {
    const events = seal([
      { changeId: CHANGE, type: 'TRIGGERED', actor: 'hr.system', policyVersion: 'p', data: {} },
      { changeId: CHANGE, type: 'PLANNED', actor: 'nhigov:automation', policyVersion: 'p', data: {} },
    ]);
    const verdict = verifyChain(events.slice(1));
    expect(verdict).toMatchObject({ ok: false, brokenAt: 1, brokenType: 'PLANNED' });
    if (!verdict.ok) expect(verdict.reason).toMatch(/event 1 is missing/);
  });
});

describe('evidence trail (what a chain alone cannot show)', () => {
  const events = seal([
    { changeId: CHANGE, type: 'TRIGGERED', actor: 'hr.system', policyVersion: 'p', data: {} },
    { changeId: CHANGE, type: 'PLANNED', actor: 'nhigov:automation', policyVersion: 'p', data: {} },
    { changeId: CHANGE, type: 'COMPLETED', actor: 'nhigov:automation', policyVersion: 'p', data: { status: 'VERIFIED', reasonCodes: [] } },
  ]);

  it('a finished change whose COMPLETED was cut off is broken at the missing seq', () => {
    const verdict = verifyTrail(events.slice(0, 2), ENDED);
    expect(verdict).toMatchObject({ ok: false, brokenAt: 3, complete: false });
    if (!verdict.ok) expect(verdict.reason).toMatch(/last event\(s\) were deleted/);
  });

  it('a change in flight may legitimately have no COMPLETED yet: cutting its tail is not detectable', () => {
    expect(verifyTrail(events.slice(0, 2), { changeStatus: 'APPLYING', mustBeComplete: false }).ok).toBe(true);
  });

  it('a change whose evidence is all gone is broken at seq 1', () => {
    expect(verifyTrail([], ENDED)).toMatchObject({ ok: false, brokenAt: 1 });
    expect(verifyTrail([], { changeStatus: null, mustBeComplete: false }).ok).toBe(true);
  });

  it('FINALIZED may follow COMPLETED; a status disagreement is a warning, not a break', () => {
    const last = events.at(-1) as EvidenceEvent;
    const finalized = [...events, sealEvidence({ changeId: CHANGE, type: 'FINALIZED', actor: 'nhigov:automation', policyVersion: 'p', data: {} }, 4, last.at, last.hash)];
    expect(verifyTrail(finalized, ENDED).ok).toBe(true);
    // ...and cutting off such a later append is what the chain alone cannot show.
    expect(verifyTrail(events, ENDED).ok).toBe(true);
    const verdict = verifyTrail(events, { changeStatus: 'ROLLED_BACK', mustBeComplete: true });
    expect(verdict.ok).toBe(true);
    expect(verdict.warnings[0]).toMatch(/records status VERIFIED but the change record says ROLLED_BACK/);
    expect(verdict.head).toEqual({ seq: 3, hash: last.hash });
  });
});
