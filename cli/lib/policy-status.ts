import { z } from 'zod';
import { exemptionStates, parsePolicy, type ExemptionState } from '../../lambdas/domain/policy.js';
import { keyIdOf, parsePolicySignature, verifySignedPolicy } from '../../lambdas/domain/policy-signature.js';
import { AppError, describeError } from '../../lambdas/domain/reasons.js';
import { lagOf, supersededMessage, type PolicyStore, type PolicyVersionRecord, type RuntimeLag } from '../../lambdas/stores/policy-store.js';
import { newerMark, supersededBy, type PolicyMark } from '../../lambdas/domain/checkpoint.js';
import { readInput, signatureFileOf } from './policy-files.js';
import { UsageError } from './io.js';

const activatorEmail = z.string().trim().toLowerCase().pipe(z.email());

export interface ActivateResult {
  /** false when the file's version was already the active one (nothing written). */
  readonly activated: boolean;
  readonly version: string;
  readonly name: string;
  readonly activatedBy: string;
  readonly activatedAt: string;
  readonly supersedes: string | null;
  readonly keyId: string;
  readonly signedAt: string;
  /** Things worth knowing that do not stop the activation (e.g. exemptions already expired). */
  readonly warnings: readonly string[];
}

/**
 * Makes a signed policy file the active version, recorded with who and when. Refuses (and writes
 * nothing) unless FILE.sig is a valid signature of FILE by the key the runtimes trust.
 */
export async function activatePolicy(
  store: PolicyStore,
  input: {
    readonly file: string;
    readonly as: string;
    readonly trustedPublicKeyPem: string;
    readonly now?: Date;
    /** The newest policy ever activated, from the signed checkpoints (the table alone can be rewritten). */
    readonly mark?: PolicyMark | null;
  },
): Promise<ActivateResult> {
  const who = activatorEmail.safeParse(input.as);
  if (!who.success) throw new UsageError(`--as must be an email address, not "${input.as}"`);
  const policyText = readInput(input.file, 'policy file');
  const signatureFile = signatureFileOf(input.file);
  let signatureText: string;
  try {
    signatureText = readInput(signatureFile, 'signature');
  } catch {
    throw new AppError('POLICY_INVALID', `${input.file} is not signed: ${signatureFile} does not exist (nhigov policy sign ${input.file} --key KEY); nothing was activated`);
  }
  let signed;
  try {
    signed = verifySignedPolicy(policyText, signatureText, input.trustedPublicKeyPem);
  } catch (error) {
    throw new AppError('POLICY_INVALID', `${describeError(error)}; nothing was activated`, { cause: error });
  }
  const now = input.now ?? new Date();
  const warnings = exemptionStates(signed.policy, now)
    .filter((e) => !e.inForce)
    .map((e) => `exemption for ${e.nhi} (${e.ticket}) expired at ${e.expiresAt}: it does not apply`);
  const [current, history] = await Promise.all([store.active(), store.history()]);
  // Anti-rollback: a signature older than the newest one ever activated is refused, even when a
  // copy of it sits in the ACTIVE slot; re-signing the file (a new signedAt) is the way back.
  const newest = newestActivated([...(current ? [current] : []), ...history], input.trustedPublicKeyPem, input.mark ?? null);
  const newer = supersededBy(signed.signature, newest);
  if (newer) throw new AppError('POLICY_INVALID', `${supersededMessage(signed, newer)}; nothing was activated`, { details: { supersededBy: newer } });
  const base = { version: signed.version, name: signed.policy.name, keyId: signed.signature.keyId, signedAt: signed.signature.signedAt, warnings };
  // Already active, byte for byte: nothing to do. (A stored copy that differs, e.g. tampered, is replaced.)
  if (current?.version === signed.version && current.policyText === policyText && current.signatureText === signatureText) {
    return { ...base, activated: false, activatedBy: current.activatedBy, activatedAt: current.activatedAt, supersedes: current.supersedes ?? null, warnings: [...warnings, 'this version is already the active one: nothing changed'] };
  }
  const record: PolicyVersionRecord = { version: signed.version, policyText, signatureText, activatedBy: who.data, activatedAt: now.toISOString(), supersedes: current?.version ?? null };
  await store.activate(record, { expectedActive: current?.version ?? null });
  return { ...base, activated: true, activatedBy: record.activatedBy, activatedAt: record.activatedAt, supersedes: record.supersedes ?? null };
}

/** The newest validly signed policy among the stored activations and the checkpoints' mark. */
function newestActivated(records: readonly PolicyVersionRecord[], trustedPublicKeyPem: string, mark: PolicyMark | null): PolicyMark | null {
  let newest = mark;
  for (const record of records) {
    try {
      const { version, signature } = verifySignedPolicy(record.policyText, record.signatureText, trustedPublicKeyPem);
      newest = newerMark(newest, { version, signedAt: signature.signedAt });
    } catch {
      // an unverifiable record never raises the mark (it would let anyone block activations)
    }
  }
  return newest;
}

export interface PolicyStatusDocument {
  readonly active: null | {
    readonly version: string;
    readonly name: string | null;
    readonly activatedBy: string;
    readonly activatedAt: string;
    readonly supersedes: string | null;
    readonly keyId: string | null;
    readonly signedAt: string | null;
    /** The stored version verifies against the trusted key now (runtimes refuse it otherwise). */
    readonly valid: boolean;
    readonly reason?: string;
    readonly exemptions: readonly ExemptionState[];
  };
  readonly trustedKeyId: string;
  /** Earlier activations, newest first. */
  readonly previous: ReadonlyArray<{ readonly version: string; readonly name: string | null; readonly activatedBy: string; readonly activatedAt: string; readonly supersededAt: string | null }>;
  readonly runtimes: ReadonlyArray<{
    readonly runtime: string;
    readonly version: string;
    readonly lastSeenAt: string;
    readonly state: RuntimeLag['state'];
    readonly current: boolean;
    readonly versionsBehind: number | null;
    /** Since when it has not been on the active version. */
    readonly lagSince: string | null;
    readonly lagSeconds: number | null;
    readonly refusedAt?: string;
    readonly refusal?: string;
  }>;
  /** Runtimes not on the active version. */
  readonly lagging: number;
  /** The newest policy ever activated, as the signed checkpoints record it (runtimes refuse anything signed before it). */
  readonly newestActivated?: PolicyMark | null;
}

/** Active version (re-verified), who and when, previous versions, and each runtime's version and lag. */
export async function policyStatus(store: PolicyStore, trustedPublicKeyPem: string, now: Date = new Date(), mark?: PolicyMark | null): Promise<PolicyStatusDocument> {
  const [record, history, runtimes] = await Promise.all([store.active(), store.history(), store.runtimes()]);
  const trustedKeyId = keyIdOf(trustedPublicKeyPem);
  const previousEntries = record && history[0]?.version === record.version && history[0]?.activatedAt === record.activatedAt ? history.slice(1) : history;
  const activeVersion = record?.version ?? null;
  const rows = runtimes
    .sort((a, b) => a.runtime.localeCompare(b.runtime))
    .map((r) => {
      const lag = lagOf(r, activeVersion, history, now);
      return {
        runtime: r.runtime,
        version: r.version,
        lastSeenAt: r.seenAt,
        state: lag.state,
        current: lag.state === 'current',
        versionsBehind: lag.versionsBehind,
        lagSince: lag.since,
        lagSeconds: lag.seconds,
        ...(r.refusedAt ? { refusedAt: r.refusedAt, refusal: r.refusal ?? '' } : {}),
      };
    });
  return {
    active: record ? describeActive(record, trustedPublicKeyPem, now, mark ?? null) : null,
    trustedKeyId,
    previous: previousEntries.map((h) => ({
      version: h.version,
      name: nameOf(h.policyText),
      activatedBy: h.activatedBy,
      activatedAt: h.activatedAt,
      supersededAt: history[history.indexOf(h) - 1]?.activatedAt ?? null,
    })),
    runtimes: rows,
    lagging: rows.filter((r) => !r.current).length,
    ...(mark === undefined ? {} : { newestActivated: mark }),
  };
}

function describeActive(record: PolicyVersionRecord, trustedPublicKeyPem: string, now: Date, mark: PolicyMark | null): NonNullable<PolicyStatusDocument['active']> {
  const base = { version: record.version, activatedBy: record.activatedBy, activatedAt: record.activatedAt, supersedes: record.supersedes ?? null };
  let signature: { keyId: string; signedAt: string } | null = null;
  try {
    signature = parsePolicySignature(record.signatureText);
  } catch {
    // reported as invalid below
  }
  try {
    const signed = verifySignedPolicy(record.policyText, record.signatureText, trustedPublicKeyPem);
    if (signed.version !== record.version) throw new AppError('POLICY_INVALID', `the ACTIVE pointer names version ${record.version.slice(0, 12)} but holds ${signed.version.slice(0, 12)}`);
    const newer = supersededBy(signed.signature, mark);
    if (newer) throw new AppError('POLICY_INVALID', `${supersededMessage(signed, newer)}; runtimes refuse it`);
    return { ...base, name: signed.policy.name, keyId: signed.signature.keyId, signedAt: signed.signature.signedAt, valid: true, exemptions: exemptionStates(signed.policy, now) };
  } catch (error) {
    return { ...base, name: nameOf(record.policyText), keyId: signature?.keyId ?? null, signedAt: signature?.signedAt ?? null, valid: false, reason: describeError(error), exemptions: [] };
  }
}

function nameOf(policyText: string): string | null {
  try {
    return parsePolicy(policyText).name;
  } catch {
    return null;
  }
}
