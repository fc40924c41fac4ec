import { GetAccessKeyLastUsedCommand } from '@aws-sdk/client-iam';
import { isAppError } from '../../domain/reasons.js';
import { classifyAwsError, connectorStep } from '../errors.js';
import type { ConnectorContext } from '../types.js';

/**
 * The IAM user an access key belongs to (GetAccessKeyLastUsed answers with it, by key id alone):
 * how an exposed key reported without its user (AWS Health) is traced. null when no user of
 * this account has it.
 */
export async function accessKeyOwner(ctx: ConnectorContext, accessKeyId: string): Promise<string | null> {
  try {
    const out = await connectorStep(`looking up the user of access key ${accessKeyId}`, classifyAwsError, () => ctx.iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: accessKeyId })));
    return out.UserName ?? null;
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

function isNotFound(error: unknown): boolean {
  return isAppError(error) && error.reasonCode === 'TARGET_NOT_FOUND';
}
