import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain, type EvidenceEvent } from '../../lambdas/domain/evidence.js';
import { isReasonCode } from '../../lambdas/domain/reasons.js';
import { TERMINAL_STATUSES } from '../../lambdas/domain/status.js';
import { startTestStack, type TestStack } from '../support/local-stack.js';
import { createGovernedUser, eventFile, keyStatuses, ownerEmail, terminationEvent } from '../support/estate.js';
import { activatePolicyVariant, hasSessionDeny, type ShowDoc } from '../support/approvals.js';
import { prng } from '../support/prng.js';

/**
 * Seeded fault campaign over the change and rollback workflows: each run draws a fault rule of
 * the contract (throttle, error5xx, accessDenied, delay, swallow, lag) or the gateway's `crash`
 * (the write lands, the Lambda dies before it hears back) on an IAM call the workflow makes, runs
 * a termination, or the rollback of one, through it, and checks the invariants. Reproduce a run
 * with the printed seed:
 * NHIGOV_CAMPAIGN_SEED=<seed> NHIGOV_CAMPAIGN_RUNS=<n> NHIGOV_CAMPAIGN_ROLLBACK_RUNS=<n> npm run test:reliability -- fault-campaign
 */
const SEED = Number(process.env.NHIGOV_CAMPAIGN_SEED ?? 20261122);
const RUNS = Number(process.env.NHIGOV_CAMPAIGN_RUNS ?? 8);
const ROLLBACK_RUNS = Number(process.env.NHIGOV_CAMPAIGN_ROLLBACK_RUNS ?? 7);
/**
 * The ASL runs a Write at most 1 + 5 times on transient codes plus 2 more after Lambda failures
 * (each retrier counts its own attempts), and a rewrite once more within the same bound.
 */
const MAX_WRITE_INVOCATIONS = 2 * (1 + 5 + 2);
const MODES = ['throttle', 'error5xx', 'accessDenied', 'delay', 'swallow', 'lag', 'crash'] as const;
/** The IAM writes each workflow makes; the reads its verify polls with; '*' is any call. */
const CHANGE_WRITES = ['UpdateAccessKey', 'PutUserPolicy', '*'] as const;
const ROLLBACK_WRITES = ['UpdateAccessKey', 'DeleteUserPolicy', '*'] as const;
const READS = ['ListAccessKeys', 'GetUserPolicy'] as const;
/** Modes that never touch a read (gateway: local/gateway/faults.ts): drawn on writes only. */
const WRITE_ONLY_MODES: ReadonlySet<string> = new Set(['swallow', 'lag', 'crash']);
const APPROVER = 'approver@example.com';
const REQUESTER = 'requester@example.com';

describe(`fault campaign (seed ${SEED}, ${RUNS} runs)`, () => {
  let stack: TestStack;
  const random = prng(SEED);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
  /** Each workflow meets the modes in a seeded order, every mode once before any repeats. */
  const shuffled = <T>(values: readonly T[]): T[] => values.map((value) => ({ value, key: random() })).sort((a, b) => a.key - b.key).map(({ value }) => value);
  const changeModes = shuffled(MODES);
  const rollbackModes = shuffled(MODES);
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
      const rule = drawRule(changeModes[(run - 1) % changeModes.length]!, CHANGE_WRITES);
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

      await expectInvariants(doc, user.userName, 'VERIFIED');
    });
  }

  for (let run = 1; run <= ROLLBACK_RUNS; run += 1) {
    it(`rollback run ${run}: never ROLLED_BACK unless every target is restored; reasons from the contract; retries bounded; both chains verify`, async () => {
      const owner = ownerEmail('campaign-undo');
      const user = await createGovernedUser(stack.direct, { owner, env: 'dev', keys: 1 + Math.floor(random() * 2) });
      const { changeId: parentId } = stack.json<{ changeId: string }>(['event', eventFile(stack.stateDir, terminationEvent(owner))]);
      const before = stack.json<ShowDoc>(['wait', parentId, '--timeout', '90']);
      expect(before.status).toBe('VERIFIED');
      const { changeId } = stack.json<{ changeId: string }>(['rollback', parentId, '--as', REQUESTER, '--reason', 'fault campaign']);
      expect(stack.json<ShowDoc>(['wait', changeId, '--timeout', '60']).status).toBe('AWAITING_APPROVAL');

      const rule = drawRule(rollbackModes[(run - 1) % rollbackModes.length]!, ROLLBACK_WRITES);
      await stack.fault(rule);
      let doc: ShowDoc;
      try {
        stack.json(['approve', changeId, '--as', APPROVER]);
        doc = stack.json<ShowDoc>(['wait', changeId, '--timeout', '150']);
      } finally {
        await stack.clearFaults();
      }
      summary.push(`rollback run ${run}: ${JSON.stringify(rule)} → ${doc.status} ${doc.reasonCodes.join(',')}`);

      await expectInvariants(doc, user.userName, 'ROLLED_BACK');
      const parent = stack.json<ShowDoc>(['show', parentId]);
      expect(parent.status, 'the parent keeps its status').toBe('VERIFIED');
      expect(verifyChain(parent.evidence as unknown as EvidenceEvent[]).ok).toBe(true);
      if (doc.evidence.some((e) => e.type === 'ROLLBACK_STARTED')) {
        expect(parent.evidence.at(-1)?.type, 'an undo that started is linked on the parent').toBe(doc.status === 'ROLLED_BACK' ? 'ROLLED_BACK' : 'ROLLBACK_FAILED');
      } else {
        // Refused before undoing anything (its re-check of the targets failed): the parent is as it was.
        expect(doc.status).not.toBe('ROLLED_BACK');
        expect(parent.evidence, 'the parent chain is unchanged').toEqual(before.evidence);
      }
    });
  }

  function drawRule(mode: (typeof MODES)[number], writes: readonly string[]) {
    const action = pick(WRITE_ONLY_MODES.has(mode) ? writes : [...writes, ...READS]);
    return { service: 'iam', action, mode, times: 1 + Math.floor(random() * 3), ms: 100 + Math.floor(random() * 1400) };
  }

  /** `success` is the status a run without faults ends in: it requires every action VERIFIED, each read back in its new state. */
  async function expectInvariants(doc: ShowDoc, userName: string, success: 'VERIFIED' | 'ROLLED_BACK'): Promise<void> {
    expect(TERMINAL_STATUSES as readonly string[]).toContain(doc.status);
    const statuses = await keyStatuses(stack.direct, userName);
    for (const action of doc.actions) {
      const attempts = (doc.evidence as unknown as EvidenceEvent[]).filter((e) => e.actionId === action.actionId && e.type === 'WRITE_ATTEMPTED').length;
      expect(attempts, `${action.actionId} write invocations`).toBeLessThanOrEqual(MAX_WRITE_INVOCATIONS);
      if (action.status === 'VERIFIED') {
        const readBack = `${action.actionId} (${action.kind}) read back`;
        if (action.kind === 'iam.deactivateAccessKey') expect(statuses[action.target.id], readBack).toBe('Inactive');
        else if (action.kind === 'iam.reactivateAccessKey') expect(statuses[action.target.id], readBack).toBe('Active');
        else if (action.kind === 'iam.putSessionRevocationDeny') expect(await hasSessionDeny(stack, userName), readBack).toBe(true);
        else if (action.kind === 'iam.deleteSessionRevocationDeny') expect(await hasSessionDeny(stack, userName), readBack).toBe(false);
        else throw new Error(`no independent read-back for ${action.kind}`);
      } else {
        expect(action.reasonCode === null || isReasonCode(action.reasonCode), `${action.actionId} reason ${action.reasonCode}`).toBe(true);
      }
    }
    if (doc.status === success) expect(doc.actions.every((a) => a.status === 'VERIFIED')).toBe(true);
    else expect(doc.reasonCodes.length, `a change that is not ${success} says why`).toBeGreaterThan(0);
    doc.reasonCodes.forEach((code) => expect(isReasonCode(code), code).toBe(true));
    expect(verifyChain(doc.evidence as unknown as EvidenceEvent[]).ok).toBe(true);
  }
});
