import { z } from 'zod';

/** A Secrets Manager secret, by name or ARN. */
export const secretId = z.string().min(1).max(2048).regex(/^[\w/+=.@:-]+$/, 'a secret name or ARN');

/** A secret VersionId (also a ClientRequestToken: 32 to 64 characters). */
export const versionId = z.string().min(32).max(64).regex(/^[\w-]+$/, 'a secret VersionId');
