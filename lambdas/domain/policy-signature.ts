import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson, sha256Hex } from './canonical.js';
import { formatIssues } from './events.js';
import { parsePolicy, policyVersion, type GovernancePolicy } from './policy.js';
import { AppError } from './reasons.js';

/** The `FILE.sig` document (docs/policy.md): exactly these four fields. */
export const policySignatureSchema = z.strictObject({
  /** sha256 of the policy's canonical JSON: the policy version. */
  version: z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 in lower-case hex'),
  keyId: z.string().regex(/^[0-9a-f]{16}$/, '16 lower-case hex digits'),
  /** Ed25519 over the signed statement (signedStatement), base64. */
  signature: z.string().regex(/^[A-Za-z0-9+/]{86}==$/, 'a base64 Ed25519 signature (64 bytes)'),
  signedAt: z.iso.datetime({ offset: true }),
});
export type PolicySignature = z.infer<typeof policySignatureSchema>;

export interface SignedPolicy {
  readonly policy: GovernancePolicy;
  readonly version: string;
  readonly signature: PolicySignature;
}

/** Tells this statement apart from anything else the same key might sign. */
const STATEMENT_PURPOSE = 'nhigov-policy-signature/v1';

/** Key id: the first 16 hex digits of sha256 of the public key (SPKI DER, base64). */
export function keyIdOf(publicKey: KeyObject | string): string {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  return sha256Hex(key.export({ type: 'spki', format: 'der' }).toString('base64')).slice(0, 16);
}

/**
 * What the signature covers: the exact bytes of the file (its sha256), the version it claims,
 * the key and the signing time. So any byte of the file or of the .sig fields that changes
 * makes the signature fail; a comment edited after signing is refused too.
 */
export function signedStatement(policyText: string, fields: Omit<PolicySignature, 'signature'>): Buffer {
  return Buffer.from(canonicalJson({ purpose: STATEMENT_PURPOSE, textSha256: sha256Hex(policyText), version: fields.version, keyId: fields.keyId, signedAt: fields.signedAt }), 'utf8');
}

/** Signs a policy file (validated first: an invalid policy is never signed) with Ed25519. */
export function signPolicy(policyText: string, privateKeyPem: string, now: Date = new Date()): PolicySignature {
  const policy = parsePolicy(policyText);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(privateKeyPem);
  } catch (cause) {
    throw new AppError('POLICY_INVALID', 'the signing key cannot be read (expected an Ed25519 private key in PEM)', { cause });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new AppError('POLICY_INVALID', 'the signing key is not an Ed25519 key');
  const fields = { version: policyVersion(policy), keyId: keyIdOf(createPublicKey(privateKey)), signedAt: now.toISOString() };
  const signature = sign(null, signedStatement(policyText, fields), privateKey).toString('base64');
  return { version: fields.version, keyId: fields.keyId, signature, signedAt: fields.signedAt };
}

/** Parses a `.sig` document; POLICY_INVALID with the field and the problem when it is not one. */
export function parsePolicySignature(signatureText: string): PolicySignature {
  let raw: unknown;
  try {
    raw = JSON.parse(signatureText);
  } catch {
    throw new AppError('POLICY_INVALID', 'the policy signature is not JSON');
  }
  const parsed = policySignatureSchema.safeParse(raw);
  if (!parsed.success) throw new AppError('POLICY_INVALID', `the policy signature is malformed: ${formatIssues(parsed.error)}`);
  return parsed.data;
}

/** Reads a trusted public key; POLICY_INVALID when it is not an Ed25519 public key. */
export function trustedPublicKey(publicKeyPem: string): KeyObject {
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(publicKeyPem);
  } catch (cause) {
    throw new AppError('POLICY_INVALID', 'the trusted policy public key cannot be read', { cause });
  }
  if (publicKey.asymmetricKeyType !== 'ed25519') throw new AppError('POLICY_INVALID', 'the trusted policy key is not an Ed25519 key');
  return publicKey;
}

/**
 * Fails closed: any doubt (bad YAML, schema, signature, key, version) throws POLICY_INVALID.
 * There is no way to skip this check.
 */
export function verifySignedPolicy(policyText: string, signatureText: string, publicKeyPem: string): SignedPolicy {
  const policy = parsePolicy(policyText);
  const signature = parsePolicySignature(signatureText);
  const publicKey = trustedPublicKey(publicKeyPem);
  const trustedKeyId = keyIdOf(publicKey);
  if (signature.keyId !== trustedKeyId) throw new AppError('POLICY_INVALID', `the policy is signed by key ${signature.keyId}, not by the trusted key ${trustedKeyId}`);
  const version = policyVersion(policy);
  if (signature.version !== version) throw new AppError('POLICY_INVALID', `the policy content (version ${version.slice(0, 12)}) is not what was signed (${signature.version.slice(0, 12)})`);
  const bytes = Buffer.from(signature.signature, 'base64');
  // Base64 decoding is lenient: only the canonical spelling of 64 bytes is accepted.
  if (bytes.length !== 64 || bytes.toString('base64') !== signature.signature) throw new AppError('POLICY_INVALID', 'the policy signature is not a canonical base64 Ed25519 signature');
  if (!verify(null, signedStatement(policyText, signature), publicKey, bytes)) {
    throw new AppError('POLICY_INVALID', 'the policy signature does not verify (the file or its .sig changed after signing)');
  }
  return { policy, version, signature };
}
