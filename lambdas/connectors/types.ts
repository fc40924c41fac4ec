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
 * The IAM actions one connector action calls, split by who needs them: every connector function
 * gets `read`, only the function that writes gets `write` too (infra/lib/connector-policy.ts).
 */
export interface ConnectorPermissions {
  /** What `read` and `verify` call (and `write` before it changes anything): reads only. */
  readonly read: readonly string[];
  /** What `write` calls beyond `read`: every mutating action, nothing in `read`. */
  readonly write: readonly string[];
  /**
   * The tag keys `write` sets or removes, when `write` holds a tagging action: the only keys the
   * role may tag with (never the governance tag).
   */
  readonly tagKeys?: readonly string[];
}

/**
 * One connector action kind: one module, one declaration. The CDK connector policies are built
 * from `permissions`; the registry meta-tests check every declaration.
 */
export interface ConnectorAction<P extends JsonObject = JsonObject> extends ActionKindSpec {
  /** What the action does, in words used in error messages: "deactivating access key". */
  readonly description: string;
  /** Closed schema of the action's params. */
  readonly schema: z.ZodType<P>;
  /** Exactly the IAM actions `read`, `write` and `verify` call, split into reads and writes. */
  readonly permissions: ConnectorPermissions;
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
