/**
 * Owner attestation in the stack: a campaign schedule and a sweep schedule invoke the one
 * attestation function through their own role; the function may start changes, send mail and
 * read the link key, and may not touch approvals, plans or the evidence table directly.
 */
import { describe, expect, it } from 'vitest';
import { ATTESTATION_FUNCTION, FUNCTIONS } from '../../infra/resources.js';
import { actionCovers, resourceMayInclude, statementsByRole } from './support/iam.js';
import { buildStack, functionLogicalId, resourcesOfType, roleOfFunction } from './support/stack.js';

const { json } = buildStack();
const fnId = functionLogicalId(json, `nhigov-${ATTESTATION_FUNCTION}`);
const roles = statementsByRole(json);

function allowed(roleId: string, action: string, resourceId?: string): boolean {
  return (roles.get(roleId) ?? []).some((s) => s.Effect === 'Allow' && [s.Action].flat().some((a) => typeof a === 'string' && actionCovers(a, action)) && (resourceId === undefined || resourceMayInclude(s.Resource, resourceId)));
}

describe('attestation', () => {
  it('is one of the functions, and an output the CLI reads', () => {
    expect(FUNCTIONS.map((f) => f.name)).toContain(ATTESTATION_FUNCTION);
    expect(json.Outputs?.['AttestationFunctionName']).toBeDefined();
  });

  it('opens a campaign quarterly (named by its scheduled time) and sweeps hourly, each invoking only the attestation function', () => {
    const schedules = resourcesOfType(json, 'AWS::Scheduler::Schedule').filter(([id]) => id.includes('Attestation'));
    const byInput = new Map(schedules.map(([, s]) => [JSON.parse((s.Properties?.['Target'] as { Input: string }).Input).action as string, s]));
    expect(byInput.get('start')?.Properties?.['ScheduleExpression']).toBe('cron(0 9 1 1,4,7,10 ? *)');
    expect(JSON.parse((byInput.get('start')?.Properties?.['Target'] as { Input: string }).Input)).toEqual({ action: 'start', scheduledTime: '<aws.scheduler.scheduled-time>' });
    expect(byInput.get('sweep')?.Properties?.['ScheduleExpression']).toBe('rate(1 hour)');
    for (const [, schedule] of schedules) {
      const target = schedule.Properties?.['Target'] as { Arn: unknown; RoleArn: { 'Fn::GetAtt': [string, string] } };
      expect(JSON.stringify(target.Arn)).toContain(fnId);
      const roleId = target.RoleArn['Fn::GetAtt'][0];
      const statements = roles.get(roleId) ?? [];
      expect(statements.flatMap((s) => [s.Action].flat())).toEqual(statements.map(() => 'lambda:InvokeFunction'));
      expect(statements.every((s) => resourceMayInclude(s.Resource, fnId) && s.Resource !== '*')).toBe(true);
    }
  });

  it('its role starts changes, sends mail, reads the link key; never writes approvals, plans or the evidence table', () => {
    const role = roleOfFunction(json, ATTESTATION_FUNCTION);
    const starts = (roles.get(role) ?? []).filter((s) => [s.Action].flat().includes('states:StartExecution'));
    expect(starts.map((s) => JSON.stringify(s.Resource))).toEqual([expect.stringContaining('stateMachine:nhigov-change"')]);
    expect(allowed(role, 'ses:SendEmail')).toBe(true);
    expect(allowed(role, 'secretsmanager:GetSecretValue')).toBe(true);
    const table = (id: string) => resourcesOfType(json, 'AWS::DynamoDB::Table').find(([, r]) => r.Properties?.['TableName'] === `nhigov-${id}`)?.[0] ?? '';
    for (const id of ['approvals', 'plans']) expect(allowed(role, 'dynamodb:GetItem', table(id)), id).toBe(false);
    expect(allowed(role, 'dynamodb:PutItem', table('evidence'))).toBe(false);
    expect(allowed(role, 'dynamodb:UpdateItem', table('changes'))).toBe(true);
  });
});
