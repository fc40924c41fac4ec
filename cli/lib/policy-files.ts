import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { keyIdOf, signPolicy, verifySignedPolicy, type PolicySignature } from '../../lambdas/domain/policy-signature.js';
import { isAppError } from '../../lambdas/domain/reasons.js';
import { UsageError } from './io.js';

/** FILE → FILE.sig (docs/policy.md). */
export function signatureFileOf(policyFile: string): string {
  return `${policyFile}.sig`;
}

export interface KeygenResult {
  readonly privateKeyFile: string;
  readonly publicKeyFile: string;
  readonly keyId: string;
}

/** An Ed25519 key pair: PREFIX.key (PKCS#8 PEM, mode 0600) and PREFIX.pub (SPKI PEM). Never overwrites without `force`. */
export function generateKeyPairFiles(prefix: string, options: { force?: boolean } = {}): KeygenResult {
  const privateKeyFile = `${prefix}.key`;
  const publicKeyFile = `${prefix}.pub`;
  if (!existsSync(path.dirname(path.resolve(privateKeyFile)))) throw new UsageError(`directory ${path.dirname(path.resolve(privateKeyFile))} does not exist`);
  for (const file of [privateKeyFile, publicKeyFile]) {
    if (existsSync(file) && !options.force) throw new UsageError(`${file} already exists (pass --force to replace the key pair)`);
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  // Remove first so the new file is created with mode 0600 (a mode only applies on creation).
  rmSync(privateKeyFile, { force: true });
  writeFileSync(privateKeyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  chmodSync(privateKeyFile, 0o600);
  writeFileSync(publicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644 });
  return { privateKeyFile, publicKeyFile, keyId: keyIdOf(publicKey) };
}

export interface SignResult extends PolicySignature {
  readonly file: string;
  readonly signatureFile: string;
}

/** Validates FILE and writes FILE.sig. An invalid policy is refused (POLICY_INVALID, exit 2). */
export function signPolicyFile(file: string, keyFile: string, now: Date = new Date()): SignResult {
  const policyText = readInput(file, 'policy file');
  const privateKeyPem = readInput(keyFile, 'signing key');
  const signature = signPolicy(policyText, privateKeyPem, now);
  const signatureFile = signatureFileOf(file);
  writeFileSync(signatureFile, `${JSON.stringify(signature, null, 2)}\n`);
  return { file, signatureFile, ...signature };
}

export type VerifyResult =
  | { readonly valid: true; readonly file: string; readonly signatureFile: string; readonly trustedKeyFile: string; readonly trustedKeyId: string; readonly name: string; readonly version: string; readonly keyId: string; readonly signedAt: string }
  | { readonly valid: false; readonly file: string; readonly signatureFile: string; readonly trustedKeyFile: string; readonly trustedKeyId: string | null; readonly reason: string };

/** A public key and where it came from (a file, or the stack's PolicyPublicKey output). */
export interface TrustedKey {
  readonly pem: string;
  readonly source: string;
}

/** Is FILE.sig a valid signature of FILE by the trusted key? Never throws for a bad policy or signature. */
export function verifyPolicyFile(file: string, trusted: TrustedKey): VerifyResult {
  const policyText = readInput(file, 'policy file');
  const publicKeyPem = trusted.pem;
  const signatureFile = signatureFileOf(file);
  let trustedKeyId: string | null = null;
  try {
    trustedKeyId = keyIdOf(publicKeyPem);
  } catch {
    // reported by verifySignedPolicy below
  }
  const base = { file, signatureFile, trustedKeyFile: trusted.source, trustedKeyId };
  if (!existsSync(signatureFile)) return { valid: false, ...base, reason: `not signed: ${signatureFile} does not exist (nhigov policy sign ${file} --key KEY)` };
  try {
    const signed = verifySignedPolicy(policyText, readFileSync(signatureFile, 'utf8'), publicKeyPem);
    return { valid: true, ...base, trustedKeyId: trustedKeyId ?? '', name: signed.policy.name, version: signed.version, keyId: signed.signature.keyId, signedAt: signed.signature.signedAt };
  } catch (error) {
    if (!isAppError(error)) throw error;
    return { valid: false, ...base, reason: error.message };
  }
}

/** Reads a file the user named; a missing or unreadable one is a usage error (exit 2). */
export function readInput(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}
