/**
 * The change machine's intent check: new work after Apply goes back through Apply, under the
 * change's decision or after a follow-up approval of its own; a refused follow-up escalates.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromRoot } from '../../infra/lib/paths.js';

type State = Record<string, unknown> & { Type: string; Next?: string; End?: boolean; Default?: string; Choices?: Array<Record<string, unknown>>; Catch?: Array<{ ErrorEquals: string[]; Next: string }> };
const asl = JSON.parse(readFileSync(fromRoot('statemachines/change.asl.json'), 'utf8')) as { StartAt: string; States: Record<string, State> };
const states = asl.States;
const state = (name: string): State => {
  const found = states[name];
  if (!found) throw new Error(`no state ${name}`);
  return found;
};

/** Every state a state may go to next (top level only: the Map states' processors are their own graphs). */
function successors(s: State): string[] {
  const choices = (s.Choices ?? []).map((c) => c.Next).filter((n): n is string => typeof n === 'string');
  return [s.Next, s.Default, ...choices, ...(s.Catch ?? []).map((c) => c.Next)].filter((n): n is string => typeof n === 'string');
}

describe('change machine: follow-up approval of new work after Apply', () => {
  it('routes an intent check that asks for approval to its own callback request, after the earlier one', () => {
    const route = state('IntentRoute').Choices ?? [];
    expect(route).toContainEqual({ Variable: '$.intent.next', StringEquals: 'APPROVE', Next: 'RequestFollowUpApproval' });
    const request = state('RequestFollowUpApproval');
    expect(request).toMatchObject({
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: { FunctionName: '${RequestApprovalFunctionArn}', Payload: { 'planHash.$': '$.intent.plan.planHash', followUp: true, afterTheFact: false, 'taskToken.$': '$$.Task.Token' } },
      TimeoutSecondsPath: '$.intent.plan.approvalTimeoutSeconds',
      ResultPath: '$.followUpApproval',
      Next: 'FollowUp',
    });
    // A callback task's retry would replay its decision: none, as for the first request.
    expect(request.Retry).toBeUndefined();
    expect(request.Catch?.map((c) => [c.ErrorEquals.join(), c.Next])).toEqual([
      ['APPROVAL_REJECTED', 'FollowUpRejected'],
      ['States.Timeout', 'FollowUpTimedOut'],
      ['States.ALL', 'Failed'],
    ]);
    expect(state('FollowUp').Next).toBe('Apply');
  });

  it('a refused follow-up goes to the intent check as a refusal, and from there to INTENT_NOT_HELD', () => {
    for (const [name, refusal] of [['FollowUpRejected', 'APPROVAL_REJECTED'], ['FollowUpTimedOut', 'APPROVAL_TIMEOUT']] as const) {
      expect(state(name)).toMatchObject({ Type: 'Task', Resource: '${CheckIntentFunctionArn}', ResultPath: '$.intent', Next: 'IntentRoute' });
      // The round and the refused actions come from the stored grown plan, not the execution state.
      expect(state(name).Parameters).toEqual({ 'changeId.$': '$.changeId', 'planHash.$': '$.intent.plan.planHash', refusal });
    }
    expect(state('IntentRoute').Choices).toContainEqual({ Variable: '$.intent.next', StringEquals: 'ESCALATE', Next: 'IntentNotHeld' });
  });

  it('checks the intent again after a follow-up applied under the decision or under its own approval', () => {
    const again = (state('RouteAfterIntentCheck').Choices ?? []).find((c) => c.Next === 'CheckIntent');
    expect(again).toEqual({
      And: [
        { Variable: '$.outcome.status', StringEquals: 'VERIFIED' },
        { Or: [{ Variable: '$.intent.next', StringEquals: 'APPLY' }, { Variable: '$.intent.next', StringEquals: 'APPROVE' }] },
      ],
      Next: 'CheckIntent',
    });
  });

  it('every transition names a state, and every state is reachable', () => {
    const seen = new Set<string>();
    const queue = [asl.StartAt];
    while (queue.length > 0) {
      const name = queue.shift() ?? '';
      if (seen.has(name)) continue;
      seen.add(name);
      for (const next of successors(state(name))) queue.push(next);
    }
    expect([...seen].sort()).toEqual(Object.keys(states).sort());
  });
});
