import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { ConnectorContext } from './types.js';

/**
 * Connector clients make exactly one attempt per call: retries belong to the workflow (ASL
 * Retry on THROTTLED / TARGET_UNAVAILABLE), where they are bounded by the policy and recorded.
 * The endpoint comes from the SDK's standard AWS_ENDPOINT_URL setting.
 */
export function createConnectorContext(now: () => Date = () => new Date()): ConnectorContext {
  const config = { maxAttempts: 1 } as const;
  return { iam: new IAMClient(config), secrets: new SecretsManagerClient(config), now };
}
