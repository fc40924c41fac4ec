import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { signPolicy, verifySignedPolicy } from '../../../lambdas/domain/policy-signature.js';
import { withFollowUp } from '../../../lambdas/domain/intent.js';
import { refuseFollowUpCore } from '../../../lambdas/handlers/check-intent.js';
import { snapshotOf, user } from '../../fixtures/estate-builder.js';
import { events, planFor } from '../../fixtures/planning.js';
import { InMemoryRuntime } from './in-memory-runtime.js';

const CAROL = 'carol@example.com';
const recent = { createdAt: '2026-06-01T00:00:00.000Z', lastUsedAt: '2026-06-30T00:00:00.000Z' };

/** A dev termination whose re-plan found a key added during the write: the grown plan stored, the change on record. */
async function grownChange() {
  const text = readFileSync(fileURLToPath(new URL('../../../policy/default-policy.yaml', import.meta.url)), 'utf8');
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const signature = signPolicy(text, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), new Date('2026-01-01T00:00:00.000Z'));
  const rt = new InMemoryRuntime(verifySignedPolicy(text, JSON.stringify(signature), publicKey.export({ type: 'spki', format: 'pem' }).toString()));
  const estate = snapshotOf({ users: [user('svc-dev', { owner: CAROL, keys: [{ accessKeyId: 'AKIADEV000000001', ...recent }, { accessKeyId: 'AKIADEVNEW000001', ...recent }] })] });
  const full = planFor(events.terminated(CAROL), estate);
  const newKey = full.actions.find((a) => a.target.id === 'AKIADEVNEW000001');
  if (!newKey) throw new Error('the fixture plans the new key');
  const first = { ...full, actions: full.actions.filter((a) => a !== newKey).map((a, i) => ({ ...a, actionId: `a${i + 1}` })) };
  const of = await rt.plans.put(first);
  const grown = withFollowUp(first, [newKey], { round: 1, of, approval: { ...first.approval, required: true, reasons: ['a new key (a5 of svc-dev)'] } });
  const planHash = await rt.plans.put(grown);
  await rt.changes.create({ changeId: 'chg-test', kind: 'change', status: 'AWAITING_APPROVAL', trigger: 'Employee Terminated', eventId: 'evt-term', createdAt: '2026-07-01T00:00:00.000Z', reasonCodes: ['OWNER_TERMINATED'] });
  return { rt, planHash, followUpId: grown.actions.at(-1)?.actionId ?? '' };
}

describe('a refused follow-up approval: the intent does not hold', () => {
  it.each([
    ['APPROVAL_REJECTED', 'its follow-up approval was rejected'],
    ['APPROVAL_TIMEOUT', 'nobody decided its follow-up approval before the timeout'],
  ] as const)('%s: ESCALATED with INTENT_NOT_HELD and the refusal, the new work named, nothing rolled back', async (refusal, why) => {
    const { rt, planHash, followUpId } = await grownChange();
    const check = await refuseFollowUpCore(rt, { changeId: 'chg-test', planHash, refusal });
    expect(check).toEqual({ next: 'ESCALATE', round: 1, outcome: { status: 'ESCALATED', next: 'ESCALATE', reasonCodes: ['INTENT_NOT_HELD', refusal], rollbackActionIds: [] } });
    const decided = rt.chain('chg-test').filter((e) => e.type === 'DECIDED');
    expect(decided).toHaveLength(1);
    expect(decided[0]?.reasonCode).toBe('INTENT_NOT_HELD');
    expect(decided[0]?.data).toMatchObject({ intent: 'not held', covered: false, refusal, planHash, round: 1, actionIds: [followUpId], work: [{ kind: 'iam.deactivateAccessKey', target: { id: 'AKIADEVNEW000001' } }] });
    expect(String(decided[0]?.data.message)).toBe(`the intent does not hold: iam.deactivateAccessKey on accessKey AKIADEVNEW000001 (svc-dev) (${why})`);
    expect((await rt.changes.get('chg-test'))?.reasonCodes).toEqual(['OWNER_TERMINATED', 'INTENT_NOT_HELD', refusal]);
  });

  it('takes the round and the refused actions from the stored plan: a plan with no follow-up request is refused', async () => {
    const { rt, planHash } = await grownChange();
    const plain = await rt.loadPlan(planHash);
    const { followUp: _request, ...rest } = plain;
    const without = await rt.plans.put(rest);
    await expect(refuseFollowUpCore(rt, { changeId: 'chg-test', planHash: without, refusal: 'APPROVAL_REJECTED' })).rejects.toThrow(/asks for no follow-up approval/);
    expect(rt.chain('chg-test').filter((e) => e.type === 'DECIDED')).toHaveLength(0);
  });
});
