/** The one taxonomy of reason codes (docs/statuses-and-reasons.md). Each code is also an ASL error name. */
export type ReasonCategory = 'transient' | 'drift' | 'misconfiguration' | 'governance' | 'suspected-compromise';
export type OwnerRoute = 'platform' | 'iam-team' | 'security' | 'owner' | null;

export interface ReasonCodeInfo {
  readonly category: ReasonCategory;
  /** true: retried with backoff; 'bounded': polled until a deadline; 're-plan-once': PLAN_STALE. */
  readonly retryable: boolean | 'bounded' | 're-plan-once' | null;
  readonly route: OwnerRoute;
  /** Pages the on-call owner instead of a ticket. */
  readonly page?: boolean;
}

export const REASON_CODES = {
  THROTTLED: { category: 'transient', retryable: true, route: null },
  TARGET_UNAVAILABLE: { category: 'transient', retryable: true, route: null },
  VERIFY_PENDING: { category: 'transient', retryable: 'bounded', route: null },
  VERIFY_TIMEOUT: { category: 'drift', retryable: false, route: 'platform' },
  WRITE_NOT_APPLIED: { category: 'drift', retryable: false, route: 'platform' },
  PLAN_STALE: { category: 'drift', retryable: 're-plan-once', route: 'iam-team' },
  TARGET_NOT_FOUND: { category: 'drift', retryable: false, route: 'iam-team' },
  CONNECTOR_ACCESS_DENIED: { category: 'misconfiguration', retryable: false, route: 'iam-team' },
  INPUT_INVALID: { category: 'misconfiguration', retryable: false, route: 'platform' },
  OWNER_UNKNOWN: { category: 'governance', retryable: false, route: 'security' },
  APPROVAL_REJECTED: { category: 'governance', retryable: false, route: 'owner' },
  APPROVAL_TIMEOUT: { category: 'governance', retryable: false, route: 'security' },
  APPROVER_NOT_AUTHORIZED: { category: 'governance', retryable: false, route: 'security' },
  SELF_APPROVAL_FORBIDDEN: { category: 'governance', retryable: false, route: 'security' },
  EXEMPTED: { category: 'governance', retryable: false, route: 'owner' },
  POLICY_INVALID: { category: 'governance', retryable: false, route: 'security' },
  KEY_UNUSED: { category: 'drift', retryable: null, route: 'owner' },
  KEY_AGE_EXCEEDED: { category: 'drift', retryable: null, route: 'owner' },
  SECRET_ROTATION_OVERDUE: { category: 'drift', retryable: null, route: 'owner' },
  EXCESSIVE_PRIVILEGE: { category: 'drift', retryable: null, route: 'owner' },
  // Extensions of the contract's table: findings for the HR triggers.
  OWNER_TERMINATED: { category: 'governance', retryable: null, route: 'security' },
  OWNER_CHANGED: { category: 'governance', retryable: null, route: 'owner' },
  CREDENTIAL_EXPOSED: { category: 'suspected-compromise', retryable: null, route: 'security' },
  // An owner attested an NHI as not theirs or not needed (attestation campaign): disabled reversibly.
  ATTESTATION_DECLINED: { category: 'governance', retryable: null, route: 'owner' },
  ROLLBACK_FAILED: { category: 'drift', retryable: false, route: 'security', page: true },
  // The change's intent does not hold after Apply: new work its decision does not cover, or that a follow-up did not clear.
  INTENT_NOT_HELD: { category: 'drift', retryable: false, route: 'security' },
  // Held states: what a verified change left was changed around the workflow, or a later change prevails.
  HELD_STATE_DRIFT: { category: 'drift', retryable: null, route: 'security' },
  SUPERSEDED: { category: 'governance', retryable: null, route: 'security' },
  GOVERNANCE_REMOVED: { category: 'governance', retryable: null, route: 'security' },
  OWNER_TAG_CHANGED: { category: 'governance', retryable: null, route: 'security' },
} as const satisfies Record<string, ReasonCodeInfo>;

export type ReasonCode = keyof typeof REASON_CODES;
export const REASON_CODE_NAMES = Object.keys(REASON_CODES) as ReasonCode[];

export function isReasonCode(value: unknown): value is ReasonCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(REASON_CODES, value);
}

/** Codes the workflow retries with exponential backoff and jitter. */
export const TRANSIENT_CODES: readonly ReasonCode[] = REASON_CODE_NAMES.filter(
  (code) => REASON_CODES[code].retryable === true,
);

/**
 * What Step Functions reports when the Lambda service failed the invocation, or the function
 * crashed or timed out (Lambda.Unknown). Every task the workflow retries on TRANSIENT_CODES it
 * also re-runs after these (twice at most): each handler is safe to run again, the writes included
 * (connectors are idempotent; test/reliability/crash-rerun.test.ts kills a Write mid-flight).
 */
/** What Step Functions reports for a function that crashed or timed out (the local Lambda host answers it too). */
export const LAMBDA_CRASH_ERROR = 'Lambda.Unknown';
export const LAMBDA_FAILURE_ERRORS = ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException', LAMBDA_CRASH_ERROR] as const;

/**
 * The one error family. `name` is the reason code, so a Lambda that throws it fails with
 * that error name and the ASL's Retry/Catch can match on it.
 */
export class AppError extends Error {
  readonly reasonCode: ReasonCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(reasonCode: ReasonCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = reasonCode;
    this.reasonCode = reasonCode;
    this.details = options?.details;
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

/** A short message for an unknown thrown value, without dumping objects into logs. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
