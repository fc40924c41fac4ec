import { AppError, isAppError, type ReasonCode } from '../domain/reasons.js';

interface AwsErrorShape {
  name?: string;
  Code?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  $fault?: 'client' | 'server';
}

const THROTTLE_NAMES = new Set(['Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded', 'LimitExceeded', 'SlowDown']);
const ACCESS_DENIED_NAMES = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'UnrecognizedClientException', 'InvalidClientTokenId']);
const NOT_FOUND_NAMES = new Set(['NoSuchEntity', 'NoSuchEntityException', 'ResourceNotFoundException']);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'TimeoutError', 'RequestTimeout']);
/** IAM answers 409 while another write to the same entity is in flight: retrying later succeeds. */
const BUSY_NAMES = new Set(['ConcurrentModificationException', 'ConcurrentModification', 'EntityTemporarilyUnmodifiableException', 'EntityTemporarilyUnmodifiable']);

/** Default classification of AWS SDK errors into the contract's reason codes. */
export function classifyAwsError(error: unknown): ReasonCode {
  if (isAppError(error)) return error.reasonCode;
  const e = (error ?? {}) as AwsErrorShape;
  const name = e.name ?? e.Code ?? e.code ?? '';
  const status = e.$metadata?.httpStatusCode;
  if (THROTTLE_NAMES.has(name) || status === 429) return 'THROTTLED';
  if (ACCESS_DENIED_NAMES.has(name) || status === 403) return 'CONNECTOR_ACCESS_DENIED';
  if (NOT_FOUND_NAMES.has(name) || status === 404) return 'TARGET_NOT_FOUND';
  if (BUSY_NAMES.has(name) || NETWORK_CODES.has(name) || e.$fault === 'server' || (status !== undefined && status >= 500)) return 'TARGET_UNAVAILABLE';
  if (status === undefined) return 'TARGET_UNAVAILABLE';
  return 'INPUT_INVALID';
}

/** Runs one connector step and turns any failure into an AppError with the action's words. */
export async function connectorStep<T>(
  what: string,
  classify: (error: unknown) => ReasonCode,
  step: () => Promise<T>,
): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (isAppError(error)) throw error;
    const code = classify(error);
    const cause = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new AppError(code, `${what}: ${cause}`, { cause: error });
  }
}
