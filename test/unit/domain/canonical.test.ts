import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, contentHash } from '../../../lambdas/domain/canonical.js';
import { hashEvidence } from '../../../lambdas/domain/evidence.js';

/** JSON values without -0 (JSON has one zero) and without keys that JS objects treat specially. */
const json = fc.jsonValue({ maxDepth: 4, noUnicodeString: false }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);

/** The same value with every object's keys in another order. */
function shuffled(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((v, i) => shuffled(v, seed + i));
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    const rotated = entries.length ? [...entries.slice(seed % entries.length), ...entries.slice(0, seed % entries.length)].reverse() : entries;
    const out: Record<string, unknown> = {};
    for (const [k, v] of rotated) Object.defineProperty(out, k, { value: shuffled(v, seed + k.length), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return value;
}

describe('canonical JSON (RFC 8785)', () => {
  it('is stable under key order, at every depth', () => {
    fc.assert(
      fc.property(json, fc.nat(), (value, seed) => {
        expect(canonicalJson(shuffled(value, seed))).toBe(canonicalJson(value));
        expect(contentHash(shuffled(value, seed))).toBe(contentHash(value));
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips: parsing the canonical text gives the same value', () => {
    fc.assert(
      fc.property(json, (value) => {
        expect(JSON.parse(canonicalJson(value))).toEqual(value);
      }),
    );
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(json, (value) => {
        expect(canonicalJson(JSON.parse(canonicalJson(value)))).toBe(canonicalJson(value));
      }),
    );
  });

  it('follows RFC 8785: sorted keys by UTF-16 code units, no whitespace, ES number form', () => {
    expect(canonicalJson({ b: 1, a: [2, { d: 1, c: 2 }], '\u20ac': 0, '\r': 0, '1': true })).toBe('{"\\r":0,"1":true,"a":[2,{"c":2,"d":1}],"b":1,"€":0}');
    expect(canonicalJson([1e21, 1e-7, 0.1, -0, 100, 'x\u2028'])).toBe('[1e+21,1e-7,0.1,0,100,"x\u2028"]');
  });

  it('makes an evidence hash independent of how the event object was built', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), fc.oneof(fc.string(), fc.integer(), fc.boolean())), fc.nat(), (data, seed) => {
        const event = { changeId: 'chg-1', seq: 1, type: 'TRIGGERED' as const, at: '2025-01-01T00:00:00.000Z', actor: 'a', policyVersion: 'p', data, prevHash: '0'.repeat(64) };
        expect(hashEvidence(shuffled(event, seed) as typeof event)).toBe(hashEvidence(event));
      }),
    );
  });

  it('refuses values JSON cannot represent', () => {
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
  });
});
