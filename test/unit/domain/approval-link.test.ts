import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  APPROVAL_CHANNELS,
  approvalKeyOf,
  approvalLinkUrl,
  isApprovalId,
  newApprovalId,
  parseLinkFields,
  signApprovalLink,
  verifyApprovalLinkSignature,
  type ApprovalLinkFields,
} from '../../../lambdas/domain/approval-link.js';

const KEY = 'k'.repeat(64);
const base: ApprovalLinkFields = { approvalId: 'AbCdEfGhIjKlMnOpQrStUvWx', approver: 'approver@example.com', exp: 1_900_000_000, channel: 'email' };

const fieldsArb = fc.record({
  approvalId: fc.stringMatching(/^[A-Za-z0-9_-]{16,40}$/),
  approver: fc.emailAddress(),
  exp: fc.integer({ min: 0, max: 2 ** 36 }),
  channel: fc.constantFrom(...APPROVAL_CHANNELS),
});

describe('approval link signing', () => {
  it('verifies what it signed, for any fields and key', () => {
    fc.assert(
      fc.property(fieldsArb, fc.uint8Array({ minLength: 16, maxLength: 64 }), (fields, key) => verifyApprovalLinkSignature(key, signApprovalLink(key, fields))),
    );
  });

  it('refuses a link when any signed field changes', () => {
    fc.assert(
      fc.property(fieldsArb, fieldsArb, fc.constantFrom('approvalId', 'approver', 'exp', 'channel') as fc.Arbitrary<keyof ApprovalLinkFields>, (fields, other, field) => {
        const signed = signApprovalLink(KEY, fields);
        const tampered = { ...signed, [field]: other[field] };
        fc.pre(JSON.stringify(tampered[field]).toLowerCase() !== JSON.stringify(signed[field]).toLowerCase());
        return !verifyApprovalLinkSignature(KEY, tampered);
      }),
    );
  });

  it('refuses a link signed with another key, and any signature that is not the one', () => {
    const signed = signApprovalLink(KEY, base);
    expect(verifyApprovalLinkSignature('another-key', signed)).toBe(false);
    fc.assert(fc.property(fc.string(), (sig) => sig === signed.sig || !verifyApprovalLinkSignature(KEY, { ...signed, sig })));
    // base64url decoders skip stray characters: the signature must be exactly the canonical text.
    expect(verifyApprovalLinkSignature(KEY, { ...signed, sig: `${signed.sig}=` })).toBe(false);
    expect(verifyApprovalLinkSignature(KEY, { ...signed, sig: `.${signed.sig}` })).toBe(false);
  });

  it('binds the approver case-insensitively (addresses are normalized before signing)', () => {
    const signed = signApprovalLink(KEY, { ...base, approver: ' Approver@Example.COM ' });
    expect(signed.approver).toBe('approver@example.com');
    expect(verifyApprovalLinkSignature(KEY, { ...signed, approver: 'APPROVER@example.com' })).toBe(true);
  });

  it('never throws on malformed links', () => {
    fc.assert(
      fc.property(fc.record({ approvalId: fc.string(), approver: fc.string(), exp: fc.oneof(fc.integer(), fc.double()), channel: fc.string(), sig: fc.string() }), (link) => {
        return typeof verifyApprovalLinkSignature(KEY, link as never) === 'boolean';
      }),
    );
  });
});

describe('approval ids and URLs', () => {
  it('makes unguessable ids and keys the table by their hash, never by the id', () => {
    const ids = new Set(Array.from({ length: 1000 }, newApprovalId));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(isApprovalId(id)).toBe(true);
    const id = newApprovalId();
    expect(approvalKeyOf(id)).toMatch(/^[0-9a-f]{64}$/);
    expect(approvalKeyOf(id)).not.toContain(id);
  });

  it('round-trips a link through its URL', () => {
    fc.assert(
      fc.property(fieldsArb, fc.constantFrom('http://127.0.0.1:4566', 'https://abc.lambda-url.us-east-1.on.aws/'), (fields, baseUrl) => {
        const signed = signApprovalLink(KEY, fields);
        const url = new URL(approvalLinkUrl(baseUrl, signed));
        const id = decodeURIComponent(url.pathname.split('/').pop() ?? '');
        const parsed = parseLinkFields(id, url.searchParams);
        return parsed !== null && verifyApprovalLinkSignature(KEY, parsed) && url.pathname.endsWith(`/approvals/${fields.approvalId}`);
      }),
    );
  });

  it('reads a link without `via` as the web channel, and refuses incomplete ones', () => {
    const signed = signApprovalLink(KEY, { ...base, channel: 'web' });
    const query = new URLSearchParams({ sig: signed.sig, exp: String(signed.exp), approver: signed.approver });
    expect(parseLinkFields(base.approvalId, query)).toMatchObject({ channel: 'web' });
    for (const missing of ['sig', 'exp', 'approver']) {
      const partial = new URLSearchParams(query);
      partial.delete(missing);
      expect(parseLinkFields(base.approvalId, partial)).toBeNull();
    }
    expect(parseLinkFields(base.approvalId, new URLSearchParams({ ...Object.fromEntries(query), exp: '12abc' }))).toBeNull();
    expect(parseLinkFields(base.approvalId, new URLSearchParams({ ...Object.fromEntries(query), via: 'pigeon' }))).toBeNull();
    expect(parseLinkFields('../../etc', query)).toBeNull();
  });
});
