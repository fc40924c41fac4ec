import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../../lambdas/domain/reasons.js';
import { role, secret, snapshotOf, user } from '../../../fixtures/estate-builder.js';
import { actionsOf, events, planFor } from '../../../fixtures/planning.js';

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';

describe('Owner Changed', () => {
  const estate = snapshotOf({ users: [user('svc-a', { owner: ALICE })], roles: [role('deploy', { owner: ALICE })], secrets: [secret('app/key', { owner: ALICE })] });

  it('moves the owner tag when the event names the current owner, reversibly, before anything else', () => {
    const plan = planFor(events.ownerChanged('svc-a', ALICE, BOB), estate);
    expect(plan.actions).toHaveLength(1);
    expect(plan.actions[0]).toMatchObject({
      kind: 'iam.moveOwnerTag',
      target: { type: 'user', id: 'svc-a', nhi: 'svc-a' },
      params: { principalType: 'user', principalName: 'svc-a', toOwner: BOB },
      before: { owner: ALICE },
      after: { owner: BOB },
      inverse: { kind: 'iam.moveOwnerTag', params: { principalType: 'user', principalName: 'svc-a', toOwner: ALICE } },
      finding: 'OWNER_CHANGED',
      phase: 0,
      group: 'ownership',
      risk: { reversible: true, prod: false },
    });
  });

  it('moves a secret\'s owner tag through Secrets Manager, a role\'s through IAM', () => {
    expect(actionsOf(planFor(events.ownerChanged('app/key', ALICE, BOB), estate))).toEqual([['secrets.moveOwnerTag', 'app/key']]);
    expect(actionsOf(planFor(events.ownerChanged('deploy', ALICE, BOB), estate))).toEqual([['iam.moveOwnerTag', 'deploy']]);
  });

  it('reports, and moves nothing, when the current owner is not fromEmail', () => {
    const plan = planFor(events.ownerChanged('svc-a', 'carol@example.com', BOB), estate);
    expect(plan.actions).toEqual([]);
    expect(plan.findings).toEqual([
      {
        nhi: 'svc-a',
        reasonCode: 'OWNER_CHANGED',
        message: 'owner is alice@example.com, not carol@example.com as the event says: the owner tag was not moved to bob@example.com',
        data: { currentOwner: ALICE, fromEmail: 'carol@example.com', toEmail: BOB },
        owner: ALICE,
      },
    ]);
  });

  it('does nothing when the move already happened (re-planning after apply)', () => {
    const plan = planFor(events.ownerChanged('svc-a', ALICE, BOB), snapshotOf({ users: [user('svc-a', { owner: BOB })] }));
    expect(plan.actions).toEqual([]);
    expect(plan.findings).toEqual([]);
  });

  it('refuses to plan when the name is both a user and a role; the ARN is unambiguous', () => {
    const twins = snapshotOf({ users: [user('deploy', { owner: ALICE })], roles: [role('deploy', { owner: ALICE })] });
    let refusal: unknown;
    try {
      planFor(events.ownerChanged('deploy', ALICE, BOB), twins);
    } catch (error) {
      refusal = error;
    }
    expect(isAppError(refusal) && refusal.reasonCode).toBe('INPUT_INVALID');
    expect((refusal as Error).message).toMatch(/nhi "deploy" is ambiguous: it names user arn:aws:iam::123456789012:user\/deploy, role arn:aws:iam::123456789012:role\/deploy/);
    const plan = planFor(events.ownerChanged('arn:aws:iam::123456789012:role/deploy', ALICE, BOB), twins);
    expect(plan.actions.map((a) => [a.target.type, a.target.nhi])).toEqual([['role', 'arn:aws:iam::123456789012:role/deploy']]);
  });

  it('reports an NHI that is not governed or does not exist', () => {
    const plan = planFor(events.ownerChanged('svc-x', ALICE, BOB), snapshotOf({ users: [user('svc-x', { owner: ALICE, governed: false })] }));
    expect(plan.actions).toEqual([]);
    expect(plan.findings.map((f) => f.reasonCode)).toEqual(['TARGET_NOT_FOUND']);
  });
});
