import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson, sha256Hex } from './canonical.js';
import { parsePolicy, policyVersion, type GovernancePolicy } from './policy.js';
import { AppError } from './reasons.js';

export const policySignatureSchema = z.strictObject({
  version: z.string().regex(/^[0-9a-f]{64}$/),
  keyId: z.string().regex(/^[0-9a-f]{16}$/),
  signature: z.string().min(1),
  signedAt: z.iso.datetime({ offset: true }),
});
export type PolicySignature = z.infer<typeof policySignatureSchema>;

export interface SignedPolicy {
  readonly policy: GovernancePolicy;
  readonly version: string;
  readonly signature: PolicySignature;
}

/** Key id: the first 16 hex digits of sha256 of the public key (SPKI DER). */
export function keyIdOf(publicKey: KeyObject | string): string {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  return sha256Hex(key.export({ type: 'spki', format: 'der' }).toString('base64')).slice(0, 16);
}

/** Signs the canonical JSON of the policy with Ed25519. */
export function signPolicy(policyText: string, privateKeyPem: string, now: Date = new Date()): PolicySignature {
  const policy = parsePolicy(policyText);
  const privateKey = createPrivateKey(privateKeyPem);
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new AppError('POLICY_INVALID', 'the signing key is not an Ed25519 key');
  const signature = sign(null, Buffer.from(canonicalJson(policy), 'utf8'), privateKey).toString('base64');
  return { version: policyVersion(policy), keyId: keyIdOf(createPublicKey(privateKey)), signature, signedAt: now.toISOString() };
}

/**
 * Fails closed: any doubt (bad YAML, schema, signature, key, version) throws POLICY_INVALID.
 * There is no way to skip this check.
 */
export function verifySignedPolicy(policyText: string, signatureText: string, publicKeyPem: string): SignedPolicy {
  const policy = parsePolicy(policyText);
  let raw: unknown;
  try {
    raw = JSON.parse(signatureText);
  } catch {
    throw new AppError('POLICY_INVALID', 'the policy signature is not JSON');
  }
  const parsed = policySignatureSchema.safeParse(raw);
  if (!parsed.success) throw new AppError('POLICY_INVALID', 'the policy signature is malformed');
  const signature = parsed.data;
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(publicKeyPem);
  } catch (cause) {
    throw new AppError('POLICY_INVALID', 'the trusted policy public key cannot be read', { cause });
  }
  if (publicKey.asymmetricKeyType !== 'ed25519') throw new AppError('POLICY_INVALID', 'the trusted policy key is not an Ed25519 key');
  if (signature.keyId !== keyIdOf(publicKey)) throw new AppError('POLICY_INVALID', `the policy is signed by key ${signature.keyId}, not by the trusted key ${keyIdOf(publicKey)}`);
  const version = policyVersion(policy);
  if (signature.version !== version) throw new AppError('POLICY_INVALID', `the policy content (version ${version.slice(0, 12)}) is not what was signed (${signature.version.slice(0, 12)})`);
  const valid = verify(null, Buffer.from(canonicalJson(policy), 'utf8'), publicKey, Buffer.from(signature.signature, 'base64'));
  if (!valid) throw new AppError('POLICY_INVALID', 'the policy signature does not verify');
  return { policy, version, signature };
}
