import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { AppError } from '../../domain/reasons.js';
import type { ConnectorContext } from '../types.js';

/**
 * A secret that holds an IAM access key: its value is JSON {"AccessKeyId","SecretAccessKey",...}.
 * The value stays inside this module's callers' locals: only the AccessKeyId (an identifier, not
 * a credential) and VersionIds leave it. Parse errors are replaced, never passed on as `cause`,
 * because JSON.parse messages quote the text they failed on.
 */
export type KeySecretDocument = Readonly<Record<string, unknown>>;

export function parseKeySecret(secretString: string | undefined, where: string): KeySecretDocument {
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString ?? '');
  } catch {
    throw new AppError('INPUT_INVALID', `${where}: the secret value is not JSON (value not shown)`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new AppError('INPUT_INVALID', `${where}: the secret value is not a JSON object (value not shown)`);
  return parsed as KeySecretDocument;
}

/** The AccessKeyId a key secret's value names, or null. */
export function heldKeyId(document: KeySecretDocument): string | null {
  return typeof document.AccessKeyId === 'string' && document.AccessKeyId.length > 0 ? document.AccessKeyId : null;
}

/** The AccessKeyId a secret string names, or null when it is not a key secret; never throws. */
export function heldKeyIdOfValue(secretString: string | undefined): string | null {
  try {
    return heldKeyId(parseKeySecret(secretString, 'secret'));
  } catch {
    return null;
  }
}

export type VersionSelector = { readonly VersionId: string } | { readonly VersionStage: 'AWSCURRENT' };

/** One version of a key secret: its VersionId and the whole document (callers keep it local). */
export async function readKeySecret(ctx: ConnectorContext, secretId: string, selector: VersionSelector): Promise<{ versionId: string | null; document: KeySecretDocument }> {
  const out = await ctx.secrets.send(new GetSecretValueCommand({ SecretId: secretId, ...selector }));
  return { versionId: out.VersionId ?? null, document: parseKeySecret(out.SecretString, `reading secret ${secretId}`) };
}

/** VersionId and held AccessKeyId of one version; null when that version does not exist. */
export async function heldKeyOfVersion(ctx: ConnectorContext, secretId: string, selector: VersionSelector): Promise<{ versionId: string | null; accessKeyId: string | null } | null> {
  try {
    const { versionId, document } = await readKeySecret(ctx, secretId, selector);
    return { versionId, accessKeyId: heldKeyId(document) };
  } catch (error) {
    if ((error as { name?: string }).name === 'ResourceNotFoundException' && 'VersionId' in selector) return null;
    throw error;
  }
}
