import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { verifyChain } from '../../../lambdas/domain/evidence.js';
import type { Plan } from '../../../lambdas/domain/plan-model.js';
import { signPolicy, verifySignedPolicy, type SignedPolicy } from '../../../lambdas/domain/policy-signature.js';
import { AppError, isAppError } from '../../../lambdas/domain/reasons.js';
import { beginChange, type ChangeStart, type PlannedChange } from '../../../lambdas/handlers/core/begin-change.js';
import { AUTOMATION_ACTOR } from '../../../lambdas/handlers/runtime.js';
import { snapshotOf, user } from '../../fixtures/estate-builder.js';
import { events, planFor } from '../../fixtures/planning.js';
import { InMemoryRuntime } from './in-memory-runtime.js';

const POLICY_TEXT = readFileSync(fileURLToPath(new URL('../../../policy/default-policy.yaml', import.meta.url)), 'utf8');

function signed(text = POLICY_TEXT): SignedPolicy {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const signature = signPolicy(text, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), new Date('2026-01-01T00:00:00.000Z'));
  return verifySignedPolicy(text, JSON.stringify(signature), publicKey.export({ type: 'spki', format: 'pem' }).toString());
}

const ALICE = 'alice@example.com';
const CHANGE_ID = 'chg-test-1';
const SNAPSHOT = snapshotOf({ users: [user('svc-alice', { owner: ALICE, keys: [{ accessKeyId: 'AKIAALICE0000001' }] })] });

function planned(plan: Plan, extra: Partial<PlannedChange> = {}): PlannedChange {
  return { plan, planned: { note: 'kind-specific' }, events: [], decided: { decision: 'APPLY' }, ...extra };
}

function start(overrides: Partial<ChangeStart> = {}, calls: { plan: number } = { plan: 0 }): ChangeStart {
  return {
    record: { changeId: CHANGE_ID, kind: 'change', trigger: 'Employee Terminated', eventId: 'evt-term' },
    now: new Date('2026-07-01T00:00:00.000Z'),
    refused: { actor: AUTOMATION_ACTOR, data: { eventId: 'evt-term' } },
    triggered: (s) => ({ actor: 'hr.system', data: { eventId: 'evt-term', version: s.version } }),
    plan: async (s) => {
      calls.plan += 1;
      return planned(planFor(events.terminated(ALICE), SNAPSHOT, { changeId: CHANGE_ID, policy: s.policy }));
    },
    ...overrides,
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (error: unknown) => error,
  );
}

describe('beginChange (the shared start of plan, rollback-plan and finalize-plan)', () => {
  it('creates the record, records TRIGGERED → PLANNED → the kind\'s events → DECIDED on one chain, and points the record at the stored plan', async () => {
    const policy = signed();
    const rt = new InMemoryRuntime(policy);
    const finding = { changeId: CHANGE_ID, type: 'DECIDED' as const, actor: AUTOMATION_ACTOR, policyVersion: policy.version, reasonCode: 'OWNER_TERMINATED' as const, data: { n: 1 } };
    const begun = await beginChange(rt, {
      ...start(),
      plan: async (s) => planned(planFor(events.terminated(ALICE), SNAPSHOT, { changeId: CHANGE_ID, policy: s.policy }), { events: [finding, { ...finding, data: { n: 2 } }], reasonCodes: ['OWNER_TERMINATED'] }),
    });

    expect(begun.replayed).toBe(false);
    expect(begun.signed.version).toBe(policy.version);
    expect(begun.plan.actions.length).toBeGreaterThan(0);
    const chain = rt.chain(CHANGE_ID);
    expect(chain.map((e) => [e.type, e.actor, e.policyVersion])).toEqual([
      ['TRIGGERED', 'hr.system', policy.version],
      ['PLANNED', AUTOMATION_ACTOR, policy.version],
      ['DECIDED', AUTOMATION_ACTOR, policy.version],
      ['DECIDED', AUTOMATION_ACTOR, policy.version],
      ['DECIDED', AUTOMATION_ACTOR, policy.version],
    ]);
    expect(verifyChain(chain)).toEqual({ ok: true, events: 5 });
    expect(chain[0]?.data).toEqual({ eventId: 'evt-term', version: policy.version });
    expect(chain[1]?.data).toMatchObject({ planHash: begun.planHash, note: 'kind-specific' });
    expect((chain[1]?.data.actions as unknown[]).length).toBe(begun.plan.actions.length);
    expect(chain.slice(2, 4).map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(chain[4]?.data).toEqual({ decision: 'APPLY' });

    expect(await rt.loadPlan(begun.planHash)).toEqual(begun.plan);
    expect(rt.records.get(CHANGE_ID)).toMatchObject({
      changeId: CHANGE_ID,
      kind: 'change',
      status: 'PLANNED',
      trigger: 'Employee Terminated',
      eventId: 'evt-term',
      planHash: begun.planHash,
      policyVersion: policy.version,
      actionCount: begun.plan.actions.length,
      reasonCodes: ['OWNER_TERMINATED'],
    });
  });

  it('leaves reasonCodes alone when the kind of change does not keep them', async () => {
    const rt = new InMemoryRuntime(signed());
    await beginChange(rt, start());
    expect(rt.records.get(CHANGE_ID)?.reasonCodes).toEqual([]);
  });

  it('keeps a rollback\'s link to its parent on the record', async () => {
    const rt = new InMemoryRuntime(signed());
    await beginChange(rt, start({ record: { changeId: CHANGE_ID, kind: 'rollback', parentChangeId: 'chg-parent', trigger: 'Rollback Requested', eventId: 'rollback:chg-parent:1' } }));
    expect(rt.records.get(CHANGE_ID)).toMatchObject({ kind: 'rollback', parentChangeId: 'chg-parent', eventId: 'rollback:chg-parent:1' });
  });

  it('a retried step returns the plan already stored: nothing planned or recorded again', async () => {
    const rt = new InMemoryRuntime(signed());
    const calls = { plan: 0 };
    const first = await beginChange(rt, start({}, calls));
    const events = rt.chain(CHANGE_ID).length;
    const again = await beginChange(rt, start({}, calls));
    expect(calls.plan).toBe(1);
    expect(again).toMatchObject({ planHash: first.planHash, replayed: true });
    expect(again.plan).toEqual(first.plan);
    expect(rt.chain(CHANGE_ID)).toHaveLength(events);
  });

  it('on replay, a policy activated since planning is PLAN_STALE only where the kind asks for it', async () => {
    const rt = new InMemoryRuntime(signed());
    const first = await beginChange(rt, start({ replayRefusesNewPolicy: true }));
    const newer = signed(POLICY_TEXT.replace('maxConcurrency: 10', 'maxConcurrency: 9'));
    expect(newer.version).not.toBe(first.signed.version);
    rt.policy = async () => newer;
    const stale = await rejection(beginChange(rt, start({ replayRefusesNewPolicy: true })));
    expect(isAppError(stale) && stale.reasonCode).toBe('PLAN_STALE');
    const replayed = await beginChange(rt, start());
    expect(replayed).toMatchObject({ planHash: first.planHash, replayed: true });
    expect(replayed.signed.version).toBe(newer.version);
  });

  it('a refused policy is recorded as TRIGGERED with POLICY_INVALID (policy version none), then rethrown; nothing is planned', async () => {
    const rt = new InMemoryRuntime(signed());
    rt.policy = async () => {
      throw new AppError('POLICY_INVALID', 'signature does not verify');
    };
    const calls = { plan: 0 };
    const error = await rejection(beginChange(rt, start({ refused: { actor: 'someone@example.com', data: { parentChangeId: 'chg-parent' } } }, calls)));
    expect(isAppError(error) && error.reasonCode).toBe('POLICY_INVALID');
    expect(calls.plan).toBe(0);
    const chain = rt.chain(CHANGE_ID);
    expect(chain.map((e) => [e.type, e.actor, e.policyVersion, e.reasonCode])).toEqual([['TRIGGERED', 'someone@example.com', 'none', 'POLICY_INVALID']]);
    expect(chain[0]?.data).toEqual({ parentChangeId: 'chg-parent', refused: 'signature does not verify' });
    expect(rt.records.get(CHANGE_ID)).toMatchObject({ status: 'PLANNED' });
    expect(rt.records.get(CHANGE_ID)?.planHash).toBeUndefined();
  });

  it('a non-AppError from loading the policy is recorded with its text and rethrown as is', async () => {
    const rt = new InMemoryRuntime(signed());
    const boom = new TypeError('socket hang up');
    rt.policy = async () => {
      throw boom;
    };
    expect(await rejection(beginChange(rt, start()))).toBe(boom);
    expect(rt.chain(CHANGE_ID)[0]?.data).toMatchObject({ refused: 'TypeError: socket hang up' });
  });

  it('a plan refused after TRIGGERED (a rollback that may not start) leaves the record without a plan', async () => {
    const rt = new InMemoryRuntime(signed());
    const error = await rejection(
      beginChange(
        rt,
        start({
          plan: async (s) => {
            await rt.evidence.append({ changeId: CHANGE_ID, type: 'DECIDED', actor: AUTOMATION_ACTOR, policyVersion: s.version, reasonCode: 'INPUT_INVALID', data: { decision: 'REFUSED' } });
            throw new AppError('INPUT_INVALID', 'refused');
          },
        }),
      ),
    );
    expect(isAppError(error) && error.reasonCode).toBe('INPUT_INVALID');
    expect(rt.chain(CHANGE_ID).map((e) => e.type)).toEqual(['TRIGGERED', 'DECIDED']);
    expect(rt.records.get(CHANGE_ID)?.planHash).toBeUndefined();
    expect(rt.bodies.size).toBe(0);
  });
});
