import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { policyVersion, parsePolicy } from '../../../lambdas/domain/policy.js';
import { keyIdOf, signPolicy, verifySignedPolicy } from '../../../lambdas/domain/policy-signature.js';
import { AppError } from '../../../lambdas/domain/reasons.js';

const POLICY = readFileSync(path.resolve(__dirname, '../../../policy/default-policy.yaml'), 'utf8');

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}
const KEY = keyPair();
const OTHER = keyPair();
const SIGNATURE = signPolicy(POLICY, KEY.privateKeyPem, new Date('2025-03-01T10:00:00.000Z'));
const SIGNATURE_TEXT = JSON.stringify(SIGNATURE);

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).reasonCode).toBe('POLICY_INVALID');
    return (error as AppError).message;
  }
  throw new Error('expected POLICY_INVALID, but it verified');
}

/** Replaces the character at `index` with a different printable ASCII one. */
function mutateAt(text: string, index: number, shift: number): string {
  const code = text.charCodeAt(index);
  const printable = 95; // ' ' .. '~'
  let next = 32 + (((code - 32 + 1 + (shift % (printable - 1))) % printable) + printable) % printable;
  if (next === code) next = code === 65 ? 66 : 65;
  return text.slice(0, index) + String.fromCharCode(next) + text.slice(index + 1);
}

describe('policy signature (Ed25519)', () => {
  it('round-trips: a signed policy verifies, with version = sha256 of its canonical JSON', () => {
    const signed = verifySignedPolicy(POLICY, SIGNATURE_TEXT, KEY.publicKeyPem);
    expect(signed.version).toBe(policyVersion(parsePolicy(POLICY)));
    expect(signed.version).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.keys(SIGNATURE)).toEqual(['version', 'keyId', 'signature', 'signedAt']);
    expect(SIGNATURE.keyId).toBe(keyIdOf(KEY.publicKeyPem));
  });

  it('round-trips for any key pair and signing time', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }), (when) => {
        const pair = keyPair();
        const sig = signPolicy(POLICY, pair.privateKeyPem, when);
        expect(verifySignedPolicy(POLICY, JSON.stringify(sig), pair.publicKeyPem).signature.signedAt).toBe(when.toISOString());
      }),
      { numRuns: 20 },
    );
  });

  it('refuses any single byte changed in the policy file (comments and whitespace included)', () => {
    fc.assert(
      fc.property(fc.nat({ max: POLICY.length - 1 }), fc.nat(), (index, shift) => {
        const tampered = mutateAt(POLICY, index, shift);
        refusal(() => verifySignedPolicy(tampered, SIGNATURE_TEXT, KEY.publicKeyPem));
      }),
      { numRuns: 250 },
    );
  });

  it('refuses any single character changed in any field of the signature', () => {
    const fields = ['version', 'keyId', 'signature', 'signedAt'] as const;
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.nat(), fc.nat(), (field, at, shift) => {
        const value = SIGNATURE[field];
        const tampered = { ...SIGNATURE, [field]: mutateAt(value, at % value.length, shift) };
        refusal(() => verifySignedPolicy(POLICY, JSON.stringify(tampered), KEY.publicKeyPem));
      }),
      { numRuns: 400 },
    );
  });

  it('refuses a non-canonical base64 spelling of the same signature bytes', () => {
    const sig = SIGNATURE.signature;
    // The character before "==" carries 4 padding bits: flipping one decodes to the same bytes.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const last = alphabet.indexOf(sig[85] as string);
    const sameBytes = `${sig.slice(0, 85)}${alphabet[last ^ 1]}==`;
    expect(Buffer.from(sameBytes, 'base64').equals(Buffer.from(sig, 'base64'))).toBe(true);
    expect(refusal(() => verifySignedPolicy(POLICY, JSON.stringify({ ...SIGNATURE, signature: sameBytes }), KEY.publicKeyPem))).toMatch(/canonical base64/);
  });

  it('refuses a policy signed by another key, and a signature claiming the trusted key id', () => {
    const other = signPolicy(POLICY, OTHER.privateKeyPem);
    expect(refusal(() => verifySignedPolicy(POLICY, JSON.stringify(other), KEY.publicKeyPem))).toMatch(/not by the trusted key/);
    const forged = { ...other, keyId: SIGNATURE.keyId };
    expect(refusal(() => verifySignedPolicy(POLICY, JSON.stringify(forged), KEY.publicKeyPem))).toMatch(/does not verify/);
  });

  it('fails closed on an unsigned policy, a malformed signature and a bad trusted key', () => {
    expect(refusal(() => verifySignedPolicy(POLICY, '', KEY.publicKeyPem))).toMatch(/not JSON/);
    expect(refusal(() => verifySignedPolicy(POLICY, '{}', KEY.publicKeyPem))).toMatch(/malformed: version: /);
    expect(refusal(() => verifySignedPolicy(POLICY, JSON.stringify({ ...SIGNATURE, extra: 1 }), KEY.publicKeyPem))).toMatch(/malformed/);
    expect(refusal(() => verifySignedPolicy(POLICY, SIGNATURE_TEXT, 'not a key'))).toMatch(/cannot be read/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(refusal(() => verifySignedPolicy(POLICY, SIGNATURE_TEXT, rsa))).toMatch(/not an Ed25519 key/);
    expect(refusal(() => signPolicy(POLICY, 'nope'))).toMatch(/signing key cannot be read/);
  });

  it('never signs an invalid policy', () => {
    expect(refusal(() => signPolicy(POLICY.replace('maxConcurrency: 10', 'maxConcurrency: 0'), KEY.privateKeyPem))).toMatch(/apply\.maxConcurrency: /);
  });
});
