import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SignedPolicy } from '../domain/policy-signature.js';
import { AppError, isAppError } from '../domain/reasons.js';
import type { PolicyMark } from '../domain/checkpoint.js';
import { lagOf } from '../domain/policy-lag.js';
import type { PolicyStore } from '../stores/policy-store.js';

import { GOVERNANCE_METRICS, METRICS_NAMESPACE } from '../domain/metrics.js';

/** The metric name the dashboard and the lag alarm read. */
export const POLICY_VERSION_LAG_METRIC = GOVERNANCE_METRICS.policyVersionLag.name;
export { METRICS_NAMESPACE };

/** One observation: how many versions the runtime is behind the ACTIVE one when it loads a policy. */
export interface PolicyLagSample {
  readonly runtime: string;
  /** 0: deciding with the active version. >= 1: not (superseded, or the active one was refused). */
  readonly lag: number;
  readonly loadedVersion: string | null;
  readonly activeVersion: string | null;
  readonly refusal?: string;
}

export type PolicyLagSink = (sample: PolicyLagSample) => void;

let metrics: Metrics | undefined;

/**
 * Emits PolicyVersionLag with Powertools Metrics (EMF on stdout: CloudWatch Logs extracts it in
 * AWS; the local gateway just prints it). One series (dimension `service`) so one alarm covers
 * every function; the runtime and versions ride along as metadata.
 */
export const emfPolicyLagSink: PolicyLagSink = (sample) => {
  metrics ??= new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'nhi-governor' });
  metrics.addMetric(POLICY_VERSION_LAG_METRIC, MetricUnit.Count, sample.lag);
  metrics.addMetadata('runtime', sample.runtime);
  metrics.addMetadata('loadedVersion', sample.loadedVersion ?? 'none');
  metrics.addMetadata('activeVersion', sample.activeVersion ?? 'none');
  if (sample.refusal) metrics.addMetadata('refusal', sample.refusal.slice(0, 200));
  metrics.publishStoredMetrics();
};

export interface LoadPolicyOptions {
  readonly publicKeyPem: string;
  /** The name the runtime reports under (NHIGOV_RUNTIME_NAME). */
  readonly runtime: string;
  readonly sink?: PolicyLagSink;
  readonly clock?: () => Date;
  /**
   * The newest policy ever activated (the checkpoint chain's high-water mark): an active policy
   * signed before it is refused as superseded. @default - no mark (no checkpoints configured)
   */
  readonly mark?: () => Promise<PolicyMark | null>;
  /** Told when recording the runtime's version fails (telemetry: the decision goes on). */
  readonly warn?: (message: string, error: unknown) => void;
}

/**
 * What every handler's loadPolicy() does: load the ACTIVE policy, verify it against the trusted
 * key (fail closed), compare the version loaded with the version ACTIVE names, record what this
 * runtime decides with, and report the lag. A refused policy is recorded as a refusal (the
 * runtime keeps its last good version on record, so `policy status` shows how far behind it is)
 * and reported with a lag of at least 1; the POLICY_INVALID error is then rethrown. Recording
 * needs PutItem/UpdateItem on the policies table's RUNTIME items; without it the decision still
 * goes on (the verification is what fails closed, not the telemetry).
 */
export async function loadActivePolicy(policies: PolicyStore, options: LoadPolicyOptions): Promise<SignedPolicy> {
  const sink = options.sink ?? emfPolicyLagSink;
  const now = (options.clock ?? (() => new Date()))();
  let loaded: Awaited<ReturnType<PolicyStore['loadVerifiedRecord']>>;
  try {
    loaded = await policies.loadVerifiedRecord(options.publicKeyPem, await readMark(options));
  } catch (error) {
    // Transient store errors keep their own reason code (the workflow retries them).
    if (!isAppError(error) || error.reasonCode !== 'POLICY_INVALID') throw error;
    await reportRefusal(policies, sink, options.runtime, now, error.message);
    throw error;
  }
  const { signed, record } = loaded;
  // What a runtime decides with is telemetry: failing to record it must not stop a verified decision.
  await policies.recordRuntime(options.runtime, signed.version, now.toISOString()).catch((error: unknown) => options.warn?.('could not record the policy version this runtime runs (policy status will lag)', error));
  sink({ runtime: options.runtime, lag: signed.version === record.version ? 0 : 1, loadedVersion: signed.version, activeVersion: record.version });
  return signed;
}

async function readMark(options: LoadPolicyOptions): Promise<PolicyMark | null> {
  if (!options.mark) return null;
  try {
    return await options.mark();
  } catch (error) {
    if (isAppError(error)) throw error;
    throw new AppError('TARGET_UNAVAILABLE', `reading the policy high-water mark from the checkpoints: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/** Best effort: reporting a refusal must never replace the POLICY_INVALID it reports. */
async function reportRefusal(policies: PolicyStore, sink: PolicyLagSink, runtime: string, now: Date, reason: string): Promise<void> {
  const activeVersion = await policies.active().then((r) => r?.version ?? null, () => null);
  const lag = await refusalLag(policies, runtime, now).catch(() => 1);
  await policies.recordRefusal(runtime, { at: now.toISOString(), reason, activeVersion }).catch(() => undefined);
  try {
    sink({ runtime, lag, loadedVersion: null, activeVersion, refusal: reason });
  } catch {
    // a metrics failure is not the story here
  }
}

/** Versions between this runtime's last good one and the active one; at least 1 (it is not running the active one). */
async function refusalLag(policies: PolicyStore, runtime: string, now: Date): Promise<number> {
  const [record, active, history] = await Promise.all([policies.runtime(runtime), policies.active(), policies.history()]);
  if (!record) return 1;
  return Math.max(1, lagOf({ version: record.version, seenAt: record.seenAt }, active?.version ?? null, history, now).versionsBehind ?? history.length);
}
