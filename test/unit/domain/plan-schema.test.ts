import { describe, expect, it } from 'vitest';
import { withFollowUp } from '../../../lambdas/domain/intent.js';
import type { Plan } from '../../../lambdas/domain/plan-model.js';
import { planFollowUpSchema, planSchema } from '../../../lambdas/domain/plan-schema.js';
import { snapshotOf, user } from '../../fixtures/estate-builder.js';
import { events, planFor } from '../../fixtures/planning.js';

const CAROL = 'carol@example.com';
const recent = { createdAt: '2026-06-01T00:00:00.000Z', lastUsedAt: '2026-06-30T00:00:00.000Z' };
const OF = 'a'.repeat(64);

/** A plan grown by one new key whose follow-up needs its own approval. */
function grown(): Plan {
  const full = planFor(events.terminated(CAROL), snapshotOf({ users: [user('svc-dev', { owner: CAROL, keys: [{ accessKeyId: 'AKIADEV000000001', ...recent }, { accessKeyId: 'AKIADEVNEW000001', ...recent }] })] }));
  const newKey = full.actions.filter((a) => a.target.id === 'AKIADEVNEW000001');
  const first = { ...full, actions: full.actions.filter((a) => a.target.id !== 'AKIADEVNEW000001') };
  return withFollowUp(first, newKey, { round: 1, of: OF, approval: { ...first.approval, required: true, reasons: ['env=prod on svc-dev'] } });
}

/** The plan as JSON would carry it, with `change` made to its follow-up request. */
function withRequest(plan: Plan, change: (request: Record<string, unknown>) => Record<string, unknown>): unknown {
  const json: unknown = JSON.parse(JSON.stringify(plan));
  if (typeof json !== 'object' || json === null || !('followUp' in json) || typeof json.followUp !== 'object' || json.followUp === null) throw new Error('the fixture has a follow-up request');
  return { ...json, followUp: change({ ...json.followUp }) };
}

describe('planSchema: a follow-up\'s approval request stored with the grown plan', () => {
  it('reads back a grown plan with its request, and a plan without one without the field', () => {
    const plan = grown();
    expect(planSchema.parse(JSON.parse(JSON.stringify(plan)))).toEqual(plan);
    const { followUp: _request, ...plain } = plan;
    const parsed = planSchema.parse(JSON.parse(JSON.stringify(plain)));
    expect(Object.keys(parsed)).not.toContain('followUp');
  });

  it('refuses a request that names an action the plan does not have', () => {
    const result = planSchema.safeParse(withRequest(grown(), (r) => ({ ...r, actionIds: ['a99'] })));
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['followUp.actionIds', 'follow-up action a99 is not in the plan']]);
  });

  it.each([
    ['an unknown field', (r: Record<string, unknown>) => ({ ...r, extra: true })],
    ['no approval', ({ approval: _a, ...r }: Record<string, unknown>) => r],
    ['a round 0', (r: Record<string, unknown>) => ({ ...r, round: 0 })],
    ['an earlier plan that is no hash', (r: Record<string, unknown>) => ({ ...r, of: 'plan-1' })],
    ['no actions', (r: Record<string, unknown>) => ({ ...r, actionIds: [] })],
  ])('refuses a request with %s', (_what, change) => {
    expect(planSchema.safeParse(withRequest(grown(), change)).success).toBe(false);
  });

  it('is the same request schema on its own', () => {
    expect(planFollowUpSchema.parse(grown().followUp)).toEqual(grown().followUp);
  });
});
