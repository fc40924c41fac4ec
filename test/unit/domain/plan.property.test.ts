import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACTION_CATALOG, connectorAction, validatedParams } from '../../../lambdas/connectors/registry.js';
import { canonicalJson, contentHash } from '../../../lambdas/domain/canonical.js';
import type { GovernanceEvent } from '../../../lambdas/domain/events.js';
import type { Plan } from '../../../lambdas/domain/plan-model.js';
import type { GovernancePolicy } from '../../../lambdas/domain/policy.js';
import { isAppError } from '../../../lambdas/domain/reasons.js';
import { findNhi, isGoverned, type Snapshot } from '../../../lambdas/domain/snapshot.js';
import { applyAction, applyPlan } from '../../fixtures/apply-plan.js';
import { planFor } from '../../fixtures/planning.js';
import { eventArb, NOW, policyArb, snapshotArb } from '../../fixtures/snapshot-generator.js';

/** NHIGOV_PROPERTY_RUNS=5000 for a deeper search than the default run. */
const RUNS = { numRuns: Number(process.env.NHIGOV_PROPERTY_RUNS ?? 300) };
const LONG = { timeout: Math.max(10_000, RUNS.numRuns * 20) };

/** An estate, a trigger naming things in it (or not), and a policy with its switches flipped. */
const inputArb = snapshotArb.chain((snapshot) => fc.record({ snapshot: fc.constant(snapshot), event: eventArb(snapshot), policy: policyArb }));

type Outcome = { plan: Plan } | { refused: Error };

function attempt(snapshot: Snapshot, event: GovernanceEvent, policy: GovernancePolicy): Outcome {
  try {
    return { plan: planFor(event, snapshot, { policy, now: NOW }) };
  } catch (error) {
    return { refused: error as Error };
  }
}

/** The names and ARNs the event refers to. */
function refsOf(event: GovernanceEvent): string[] {
  switch (event.detailType) {
    case 'Owner Changed':
      return [event.detail.nhi];
    case 'Credential Exposed':
      return [...(event.detail.nhi ? [event.detail.nhi] : []), ...(event.detail.secretId ? [event.detail.secretId] : [])];
    case 'Reconcile Requested':
      return typeof event.detail.scope === 'object' && 'nhi' in event.detail.scope ? [event.detail.scope.nhi] : [];
    default:
      return [];
  }
}

/**
 * Plans versus refusals over one property's runs: fc.pre skips a refused input, and the property
 * must still have judged mostly real plans (a generator drifting towards refusals would hollow it).
 */
const MIN_ACCEPTED_SHARE = 0.8;
function acceptedPlan(snapshot: Snapshot, event: GovernanceEvent, policy: GovernancePolicy, tally: { accepted: number; refused: number }): Plan {
  const outcome = attempt(snapshot, event, policy);
  if ('refused' in outcome) tally.refused += 1;
  fc.pre('plan' in outcome);
  tally.accepted += 1;
  return outcome.plan;
}
function expectMostlyAccepted(tally: { accepted: number; refused: number }): void {
  expect(tally.accepted, 'runs that judged a plan').toBe(RUNS.numRuns);
  expect(tally.accepted / (tally.accepted + tally.refused), `accepted share (${tally.accepted} plans, ${tally.refused} refusals)`).toBeGreaterThanOrEqual(MIN_ACCEPTED_SHARE);
}

const shuffled = <T>(values: readonly T[], seed: number): T[] =>
  values
    .map((value, i) => ({ value, key: (Math.sin(seed + i) * 10_000) % 1 }))
    .sort((a, b) => a.key - b.key)
    .map(({ value }) => value);

describe('planChange (properties)', () => {
  it('refuses only an ambiguous reference, with INPUT_INVALID', LONG, () => {
    fc.assert(
      fc.property(inputArb, ({ snapshot, event, policy }) => {
        const outcome = attempt(snapshot, event, policy);
        if ('plan' in outcome) return;
        expect(isAppError(outcome.refused) && outcome.refused.reasonCode).toBe('INPUT_INVALID');
        expect(outcome.refused.message).toMatch(/is ambiguous/);
        expect(refsOf(event).some((ref) => findNhi(snapshot, ref).ambiguous)).toBe(true);
      }),
      RUNS,
    );
  });

  it('is deterministic: same input, same canonical plan, whatever order AWS listed the estate in', LONG, () => {
    fc.assert(
      fc.property(inputArb, fc.integer(), ({ snapshot, event, policy }, seed) => {
        const first = attempt(snapshot, event, policy);
        const again = attempt(snapshot, event, policy);
        const reordered = attempt({ ...snapshot, users: shuffled(snapshot.users, seed), roles: shuffled(snapshot.roles, seed + 1), secrets: shuffled(snapshot.secrets, seed + 2) }, event, policy);
        if ('refused' in first) {
          expect('refused' in again && 'refused' in reordered).toBe(true);
          return;
        }
        expect('plan' in again && canonicalJson(again.plan)).toBe(canonicalJson(first.plan));
        expect('plan' in reordered && canonicalJson(reordered.plan)).toBe(canonicalJson(first.plan));
      }),
      RUNS,
    );
  });

  it('re-planning after the plan\'s `after` states are applied yields no actions (and no user ends over IAM\'s key quota)', LONG, () => {
    const tally = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(inputArb, ({ snapshot, event, policy }) => {
        const plan = acceptedPlan(snapshot, event, policy, tally);
        const applied = applyPlan(snapshot, plan, NOW);
        for (const user of applied.users) expect(user.accessKeys.length, `${user.name} within IAM's 2 keys`).toBeLessThanOrEqual(2);
        const replanned = planFor(event, applied, { policy, now: NOW });
        expect(replanned.actions.map((a) => `${a.kind} ${a.target.id}`)).toEqual([]);
      }),
      RUNS,
    );
    expectMostlyAccepted(tally);
  });

  it('targets only governed NHIs, each named unambiguously, with params its connector accepts', LONG, () => {
    const tally = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(inputArb, ({ snapshot, event, policy }) => {
        for (const action of acceptedPlan(snapshot, event, policy, tally).actions) {
          const { match, ambiguous } = findNhi(snapshot, action.target.nhi);
          expect(ambiguous, action.target.nhi).toBe(false);
          expect(match && isGoverned(match), `${action.target.nhi} is governed`).toBe(true);
          if (action.target.type !== 'accessKey') expect(match?.type).toBe(action.target.type);
          else expect(match?.type === 'user' && match.accessKeys.some((k) => k.accessKeyId === action.target.id)).toBe(true);
          expect(() => validatedParams(connectorAction(action.kind), action.params)).not.toThrow();
        }
      }),
      RUNS,
    );
    expectMostlyAccepted(tally);
  });

  it('makes exact, ordered actions: fingerprint of `before`, `after` as the kind models it, ownership first', LONG, () => {
    const tally = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(inputArb, ({ snapshot, event, policy }) => {
        const { actions } = acceptedPlan(snapshot, event, policy, tally);
        expect(actions.map((a) => a.actionId)).toEqual(actions.map((_, i) => `a${i + 1}`));
        expect(new Set(actions.map((a) => a.idempotencyKey)).size).toBe(actions.length);
        const phases = actions.map((a) => a.phase);
        expect(phases).toEqual([...phases].sort((a, b) => a - b));
        const firstOther = actions.findIndex((a) => a.group !== 'ownership');
        if (firstOther >= 0) expect(actions.slice(firstOther).some((a) => a.group === 'ownership')).toBe(false);
        for (const action of actions) {
          const spec = ACTION_CATALOG.get(action.kind);
          expect(action.fingerprint).toBe(contentHash(action.before));
          expect(action.before).not.toEqual(action.after);
          expect(spec?.beforeFromSnapshot(action.params, applyAction(snapshot, action, NOW)), `${action.kind} modelled`).toEqual(action.after);
          expect(action.risk.reversible).toBe(action.inverse !== null);
        }
      }),
      RUNS,
    );
    expectMostlyAccepted(tally);
  });

  it('inverse of inverse restores the original invocation, and the inverse restores `before`, for every reversible action', LONG, () => {
    const tally = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(inputArb, ({ snapshot, event, policy }) => {
        for (const action of acceptedPlan(snapshot, event, policy, tally).actions) {
          if (!action.inverse) continue;
          const undo = ACTION_CATALOG.get(action.inverse.kind);
          expect(undo, action.inverse.kind).toBeDefined();
          expect(undo?.desiredState(action.inverse.params, action.after)).toEqual(action.before);
          expect(undo?.inverse(action.inverse.params, action.after)).toEqual({ kind: action.kind, params: action.params });
        }
      }),
      RUNS,
    );
    expectMostlyAccepted(tally);
  });
});
