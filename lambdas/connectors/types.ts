import type { z } from 'zod';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { ActionKindSpec, JsonObject } from '../domain/plan-model.js';
import type { ReasonCode } from '../domain/reasons.js';

export interface ConnectorContext {
  readonly iam: IAMClient;
  readonly secrets: SecretsManagerClient;
  readonly now: () => Date;
}

export interface VerifyResult {
  /** true when the observed state is the desired one. */
  readonly converged: boolean;
  readonly observed: JsonObject;
}

/**
 * One connector action kind: one module, one declaration. The CDK connector role is built from
 * `permissions`; the registry meta-tests check every declaration.
 */
export interface ConnectorAction<P extends JsonObject = JsonObject> extends ActionKindSpec {
  /** What the action does, in words used in error messages: "deactivating access key". */
  readonly description: string;
  /** Closed schema of the action's params. */
  readonly schema: z.ZodType<P>;
  /** Exactly the IAM actions `read`, `write` and `verify` call. */
  readonly permissions: readonly string[];
  /** The live state the action depends on (its fingerprint source). Same shape as plan `before`. */
  read(ctx: ConnectorContext, params: P): Promise<JsonObject>;
  /** Idempotent: running it twice has the effect of once. */
  write(ctx: ConnectorContext, params: P): Promise<void>;
  /** A separate read-back compared with the desired state. */
  verify(ctx: ConnectorContext, params: P, after: JsonObject): Promise<VerifyResult>;
  /** Maps an AWS error to a reason code. */
  classify(error: unknown): ReasonCode;
  /** A short target label for messages, e.g. the AccessKeyId. */
  label(params: P): string;
}
