import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain, type EvidenceEvent } from '../../lambdas/domain/evidence.js';
import { isReasonCode } from '../../lambdas/domain/reasons.js';
import { TERMINAL_STATUSES } from '../../lambdas/domain/status.js';
import { startTestStack, type TestStack } from '../support/local-stack.js';
import { createGovernedUser, eventFile, keyStatuses, ownerEmail, terminationEvent } from '../support/estate.js';
import { activatePolicyVariant, hasSessionDeny, type ShowDoc } from '../support/approvals.js';

/**
 * Seeded fault campaign over the change workflow: each run draws a fault rule of the contract
 * (throttle, error5xx, accessDenied, delay, swallow, lag) on an IAM call the workflow makes, runs
 * a termination through it, and checks the invariants. Reproduce a run with the printed seed:
 * NHIGOV_CAMPAIGN_SEED=<seed> NHIGOV_CAMPAIGN_RUNS=<n> npm run test:reliability -- fault-campaign
 */
const SEED = Number(process.env.NHIGOV_CAMPAIGN_SEED ?? 20261122);
const RUNS = Number(process.env.NHIGOV_CAMPAIGN_RUNS ?? 8);
/** The ASL retries a Write at most 5 times after the first attempt, and rewrites once (same bound). */
const MAX_WRITE_INVOCATIONS = 2 * (1 + 5);
const MODES = ['throttle', 'error5xx', 'accessDenied', 'delay', 'swallow', 'lag'] as const;
const ACTIONS = ['UpdateAccessKey', 'PutUserPolicy', 'ListAccessKeys', 'GetUserPolicy', '*'] as const;

/** mulberry32: a small seeded PRNG, so a campaign is repeatable. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe(`fault campaign (seed ${SEED}, ${RUNS} runs)`, () => {
  let stack: TestStack;
  const random = prng(SEED);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
  const summary: string[] = [];

  beforeAll(async () => {
    stack = await startTestStack();
    activatePolicyVariant(stack, 'campaign', (policy) => {
      policy.failureHandling.verifyTimeoutSeconds = 3;
      policy.apply.maxConcurrency = 2;
    });
  });
  afterAll(() => {
    process.stdout.write(`fault campaign seed ${SEED}:\n${summary.map((line) => `  ${line}`).join('\n')}\n`);
    stack?.stop();
  });

  for (let run = 1; run <= RUNS; run += 1) {
    it(`run ${run}: never VERIFIED unless the target is in the new state; every failure has a contract reason; retries bounded; chain verifies`, async () => {
      const rule = { service: 'iam', action: pick(ACTIONS), mode: pick(MODES), times: 1 + Math.floor(random() * 3), ms: 100 + Math.floor(random() * 1400) };
      const keys = 1 + Math.floor(random() * 2);
      const owner = ownerEmail('campaign');
      const user = await createGovernedUser(stack.direct, { owner, env: 'dev', keys });
      await stack.fault(rule);
      let doc: ShowDoc;
      try {
        const { changeId } = stack.json<{ changeId: string }>(['event', eventFile(stack.stateDir, terminationEvent(owner))]);
        doc = stack.json<ShowDoc>(['wait', changeId, '--timeout', '150']);
      } finally {
        await stack.clearFaults();
      }
      summary.push(`run ${run}: ${JSON.stringify(rule)} keys=${keys} → ${doc.status} ${doc.reasonCodes.join(',')}`);

      expect(TERMINAL_STATUSES as readonly string[]).toContain(doc.status);
      const statuses = await keyStatuses(stack.direct, user.userName);
      for (const action of doc.actions) {
        const attempts = (doc.evidence as unknown as EvidenceEvent[]).filter((e) => e.actionId === action.actionId && e.type === 'WRITE_ATTEMPTED').length;
        expect(attempts, `${action.actionId} write invocations`).toBeLessThanOrEqual(MAX_WRITE_INVOCATIONS);
        if (action.status === 'VERIFIED') {
          if (action.kind === 'iam.deactivateAccessKey') expect(statuses[action.target.id], `${action.actionId} read back`).toBe('Inactive');
          else if (action.kind === 'iam.putSessionRevocationDeny') expect(await hasSessionDeny(stack, user.userName), `${action.actionId} read back`).toBe(true);
          else throw new Error(`no independent read-back for ${action.kind}`);
        } else {
          expect(action.reasonCode === null || isReasonCode(action.reasonCode), `${action.actionId} reason ${action.reasonCode}`).toBe(true);
        }
      }
      if (doc.status === 'VERIFIED') expect(doc.actions.every((a) => a.status === 'VERIFIED')).toBe(true);
      else expect(doc.reasonCodes.length, 'a change that is not VERIFIED says why').toBeGreaterThan(0);
      doc.reasonCodes.forEach((code) => expect(isReasonCode(code), code).toBe(true));
      expect(verifyChain(doc.evidence as unknown as EvidenceEvent[]).ok).toBe(true);
    });
  }
});
