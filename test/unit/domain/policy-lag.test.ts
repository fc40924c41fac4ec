import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { signPolicy } from '../../../lambdas/domain/policy-signature.js';
import { loadActivePolicy, type PolicyLagSample } from '../../../lambdas/handlers/policy-metrics.js';
import { lagOf } from '../../../lambdas/domain/policy-lag.js';
import { PolicyStore, type PolicyVersionRecord, type RuntimeRecord } from '../../../lambdas/stores/policy-store.js';

const NOW = new Date('2025-03-10T12:00:00.000Z');
const history = [
  { version: 'v3', activatedAt: '2025-03-10T11:00:00.000Z' },
  { version: 'v2', activatedAt: '2025-03-05T00:00:00.000Z' },
  { version: 'v1', activatedAt: '2025-03-01T00:00:00.000Z' },
];

describe('policy version lag', () => {
  it('a runtime on the active version is current', () => {
    expect(lagOf({ version: 'v3', seenAt: '2025-03-10T11:30:00.000Z' }, 'v3', history, NOW)).toEqual({ state: 'current', versionsBehind: 0, since: null, seconds: null });
  });

  it('counts activations since the runtime version, and since when it was superseded', () => {
    expect(lagOf({ version: 'v2', seenAt: '2025-03-09T00:00:00.000Z' }, 'v3', history, NOW)).toEqual({ state: 'idle', versionsBehind: 1, since: '2025-03-10T11:00:00.000Z', seconds: 3600 });
    expect(lagOf({ version: 'v1', seenAt: '2025-03-02T00:00:00.000Z' }, 'v3', history, NOW)).toMatchObject({ versionsBehind: 2, since: '2025-03-05T00:00:00.000Z' });
  });

  it('a runtime that decided with a superseded version after the activation is lagging', () => {
    expect(lagOf({ version: 'v2', seenAt: '2025-03-10T11:45:00.000Z' }, 'v3', history, NOW).state).toBe('lagging');
  });

  it('a runtime whose latest load was refused is refusing, even when ACTIVE still names its version', () => {
    const refused = { version: 'v3', seenAt: '2025-03-10T11:10:00.000Z', refusedAt: '2025-03-10T11:50:00.000Z', refusingSince: '2025-03-10T11:20:00.000Z' };
    expect(lagOf(refused, 'v3', history, NOW)).toEqual({ state: 'refusing', versionsBehind: 0, since: '2025-03-10T11:20:00.000Z', seconds: 2400 });
    expect(lagOf({ ...refused, version: 'v2' }, 'v3', history, NOW)).toMatchObject({ state: 'refusing', versionsBehind: 1 });
  });

  it('re-activating an older version makes runtimes on it current again', () => {
    const again = [{ version: 'v1', activatedAt: '2025-03-10T11:30:00.000Z' }, ...history];
    expect(lagOf({ version: 'v1', seenAt: '2025-03-01T00:00:00.000Z' }, 'v1', again, NOW).state).toBe('current');
    expect(lagOf({ version: 'v3', seenAt: '2025-03-10T11:10:00.000Z' }, 'v1', again, NOW)).toMatchObject({ versionsBehind: 1, since: '2025-03-10T11:30:00.000Z' });
  });

  it('a version the history does not know is behind by an unknown count', () => {
    expect(lagOf({ version: 'v0', seenAt: '2025-02-01T00:00:00.000Z' }, 'v3', history, NOW)).toMatchObject({ versionsBehind: null, since: '2025-03-10T11:00:00.000Z' });
  });
});

/** An in-memory stand-in for the store's reads and writes (the DynamoDB side is covered by integration tests). */
function fakeStore(active: PolicyVersionRecord | undefined, activations: PolicyVersionRecord[], runtimes: Map<string, RuntimeRecord>): PolicyStore {
  const real = new PolicyStore({} as never, 'unused');
  return Object.assign(Object.create(PolicyStore.prototype) as PolicyStore, {
    active: async () => active,
    history: async () => activations,
    runtime: async (name: string) => runtimes.get(name),
    runtimes: async () => [...runtimes.values()],
    recordRuntime: async (runtime: string, version: string, seenAt: string) => void runtimes.set(runtime, { runtime, version, seenAt }),
    recordRefusal: async (runtime: string, r: { at: string; reason: string; activeVersion: string | null }) =>
      void runtimes.set(runtime, { ...(runtimes.get(runtime) ?? { runtime, version: 'none', seenAt: '' }), refusedAt: r.at, refusal: r.reason, refusedVersion: r.activeVersion ?? 'none' }),
    loadVerifiedRecord(this: PolicyStore, pem: string) {
      return real.loadVerifiedRecord.call(this, pem);
    },
  });
}

describe('loadActivePolicy (what every handler does)', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const text = readFileSync(path.resolve(__dirname, '../../../policy/default-policy.yaml'), 'utf8');
  const sig = signPolicy(text, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  const record: PolicyVersionRecord = { version: sig.version, policyText: text, signatureText: JSON.stringify(sig), activatedBy: 'a@example.com', activatedAt: '2025-03-10T11:00:00.000Z' };

  it('verifies, records the runtime version and reports a lag of 0', async () => {
    const runtimes = new Map<string, RuntimeRecord>();
    const samples: PolicyLagSample[] = [];
    const signed = await loadActivePolicy(fakeStore(record, [record], runtimes), { publicKeyPem: pem, runtime: 'rt', sink: (s) => samples.push(s), clock: () => NOW });
    expect(signed.version).toBe(sig.version);
    expect(runtimes.get('rt')).toEqual({ runtime: 'rt', version: sig.version, seenAt: NOW.toISOString() });
    expect(samples).toEqual([{ runtime: 'rt', lag: 0, loadedVersion: sig.version, activeVersion: sig.version }]);
  });

  it('fails closed on a tampered ACTIVE item: POLICY_INVALID, refusal recorded, lag >= 1 reported', async () => {
    const runtimes = new Map<string, RuntimeRecord>([['rt', { runtime: 'rt', version: sig.version, seenAt: '2025-03-10T11:05:00.000Z' }]]);
    const samples: PolicyLagSample[] = [];
    const tampered = { ...record, policyText: text.replace('inactivityDays: 90', 'inactivityDays: 9000') };
    await expect(loadActivePolicy(fakeStore(tampered, [tampered], runtimes), { publicKeyPem: pem, runtime: 'rt', sink: (s) => samples.push(s), clock: () => NOW })).rejects.toMatchObject({ reasonCode: 'POLICY_INVALID' });
    expect(runtimes.get('rt')).toMatchObject({ version: sig.version, refusedAt: NOW.toISOString() });
    expect(samples[0]).toMatchObject({ runtime: 'rt', lag: 1, loadedVersion: null, activeVersion: sig.version });
    expect(samples[0]?.refusal).toMatch(/not what was signed/);
  });

  it('a pointer naming another version than it holds is refused too', async () => {
    const samples: PolicyLagSample[] = [];
    await expect(loadActivePolicy(fakeStore({ ...record, version: 'f'.repeat(64) }, [], new Map()), { publicKeyPem: pem, runtime: 'rt', sink: (s) => samples.push(s) })).rejects.toThrow(/ACTIVE pointer names version/);
    expect(samples[0]?.lag).toBe(1);
  });

  it('a runtime that may not record its version still decides (telemetry), and says so', async () => {
    const store = fakeStore(record, [record], new Map());
    Object.assign(store, { recordRuntime: async () => Promise.reject(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' })) });
    const warnings: string[] = [];
    const samples: PolicyLagSample[] = [];
    const signed = await loadActivePolicy(store, { publicKeyPem: pem, runtime: 'rt', sink: (s) => samples.push(s), warn: (m) => warnings.push(m) });
    expect(signed.version).toBe(sig.version);
    expect(warnings).toEqual([expect.stringMatching(/could not record/)]);
    expect(samples[0]?.lag).toBe(0);
  });

  it('a transient store error is not turned into POLICY_INVALID', async () => {
    const store = fakeStore(record, [record], new Map());
    Object.assign(store, { active: async () => Promise.reject(Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' })) });
    const samples: PolicyLagSample[] = [];
    await expect(loadActivePolicy(store, { publicKeyPem: pem, runtime: 'rt', sink: (s) => samples.push(s) })).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    expect(samples).toEqual([]);
  });

  it('no active policy: POLICY_INVALID', async () => {
    await expect(loadActivePolicy(fakeStore(undefined, [], new Map()), { publicKeyPem: pem, runtime: 'rt', sink: () => undefined })).rejects.toThrow(/no governance policy is active/);
  });
});
