import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export interface KeyPairFiles {
  readonly privateKeyPath: string;
  readonly publicKeyPath: string;
}

/** An Ed25519 key pair as PREFIX.key (PEM, mode 0600) and PREFIX.pub. */
export function writeKeyPair(prefix: string): KeyPairFiles {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const privateKeyPath = `${prefix}.key`;
  const publicKeyPath = `${prefix}.pub`;
  writeFileSync(privateKeyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(publicKeyPath, publicKey.export({ type: 'spki', format: 'pem' }));
  return { privateKeyPath, publicKeyPath };
}

/** The local stack's own policy key, made once per state dir. */
export function ensureKeyPair(prefix: string): { privateKeyPem: string; publicKeyPem: string } {
  if (!existsSync(`${prefix}.key`) || !existsSync(`${prefix}.pub`)) writeKeyPair(prefix);
  return { privateKeyPem: readFileSync(`${prefix}.key`, 'utf8'), publicKeyPem: readFileSync(`${prefix}.pub`, 'utf8') };
}
