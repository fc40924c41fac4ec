/**
 * The member stack, read from its synthesized template: one role, trusted only by the hub's
 * connector roles (by path), holding the hub's connector policies built from the same declarations,
 * and writing nothing when a read-side hub role assumed it. The hub side: connector roles carry
 * the paths the member trust names.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { connectorActions } from '../../infra/lib/connector-policy.js';
import { NhiGovernorMemberStack } from '../../infra/lib/member-stack.js';
import { FUNCTIONS } from '../../infra/resources.js';
import { CONNECTOR_ROLE_PATH, READ_ONLY_SOURCE_IDENTITY } from '../../lambdas/domain/accounts.js';
import { asArray, statementsByRole, type Statement } from './support/iam.js';
import { buildStack, cdkJsonContext, functionLogicalId, removedAfterAll, resourcesOfType, roleOfFunction, type CfnTemplate } from './support/stack.js';

function synthMember(props: ConstructorParameters<typeof NhiGovernorMemberStack>[2] = {}): { app: App; stack: NhiGovernorMemberStack; json: CfnTemplate } {
  const app = removedAfterAll(new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } }));
  const stack = new NhiGovernorMemberStack(app, 'NhiGovernorMember', props);
  return { app, stack, json: Template.fromStack(stack).toJSON() as CfnTemplate };
}

const { app, stack, json } = synthMember();
const roles = resourcesOfType(json, 'AWS::IAM::Role');
const [memberRoleId, memberRole] = roles[0] ?? ['', { Type: '' }];
const trust = (memberRole.Properties?.['AssumeRolePolicyDocument'] as { Statement: Statement[] }).Statement;
const granted = statementsByRole(json).get(memberRoleId) ?? [];

const hubRoleArn = (path: string): unknown => ({ 'Fn::Sub': `arn:\${AWS::Partition}:iam::\${HubAccountId}:role${path}*` });
const hubAccountPrincipal = { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'HubAccountId' }, ':root']] } };

describe('the member stack', () => {
  it('takes the hub account as a 12-digit parameter and holds exactly one role, named nhigov-member', () => {
    expect(json.Parameters?.['HubAccountId']).toMatchObject({ Type: 'String', AllowedPattern: '^\\d{12}$' });
    // A StackSet instance has no CDK bootstrap to read a version from.
    expect(Object.keys(json.Parameters ?? {})).toEqual(['HubAccountId']);
    expect(roles).toHaveLength(1);
    expect(memberRole.Properties?.['RoleName']).toBe('nhigov-member');
    expect(synthMember({ roleName: 'governance-member' }).json.Resources[memberRoleId]?.Properties?.['RoleName']).toBe('governance-member');
    expect(() => synthMember({ roleName: 'not a role name' })).toThrow(/not a valid IAM role name/);
  });

  it('is trusted only by the hub connector roles: writers by the write path, readers by the read path with the read-only source identity', () => {
    expect(trust).toEqual([
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: hubAccountPrincipal,
        Condition: { ArnLike: { 'aws:PrincipalArn': hubRoleArn(CONNECTOR_ROLE_PATH.readWrite) } },
      },
      {
        Effect: 'Allow',
        Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
        Principal: hubAccountPrincipal,
        Condition: {
          ArnLike: { 'aws:PrincipalArn': hubRoleArn(CONNECTOR_ROLE_PATH.read) },
          StringEquals: { 'sts:SourceIdentity': READ_ONLY_SOURCE_IDENTITY },
        },
      },
    ]);
  });

  it("holds the hub's connector actions, from the same declarations, and denies every write to read-side sessions", () => {
    const allowedActions = granted.filter((s) => s.Effect === 'Allow').flatMap((s) => asArray(s.Action));
    expect([...new Set(allowedActions)].sort()).toEqual(connectorActions());
    const deny = granted.filter((s) => s.Effect === 'Deny');
    expect(deny).toHaveLength(1);
    expect(asArray(deny[0]?.Action).sort()).toEqual(connectorActions('write'));
    expect(deny[0]?.Resource).toBe('*');
    expect(deny[0]?.Condition).toEqual({ StringEquals: { 'aws:SourceIdentity': READ_ONLY_SOURCE_IDENTITY } });
  });

  it('limits every non-bulk allowed action to NHIs tagged nhi-governed=true, as the hub does', () => {
    for (const statement of granted.filter((s) => s.Effect === 'Allow')) {
      // Reads of customer-managed policies are not tag-scoped (the bulk read sees their documents); writing one is.
      if (statement.Sid === 'BulkReadsWithoutResource' || statement.Sid === 'IamGroupMembershipByPath' || statement.Sid === 'IamCustomerManagedPolicyReads') continue;
      expect(statement.Condition?.['StringEquals']?.['aws:ResourceTag/nhi-governed'], statement.Sid).toBe('true');
    }
  });

  it('is cdk-nag clean', () => {
    const report = new AwsSolutionsChecks(app).validateScope(stack);
    expect(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.resourceLogicalId).join(', ')}`)).toEqual([]);
  });
});

describe('the hub connector roles', () => {
  const hub = buildStack().json;
  const pathOf = (name: string): unknown => hub.Resources[roleOfFunction(hub, name)]?.Properties?.['Path'];

  it('carry the path the member trust names: write path for readWrite, read path for read, none without connector access', () => {
    for (const fn of FUNCTIONS) {
      const expected = fn.connector === 'none' ? undefined : CONNECTOR_ROLE_PATH[fn.connector];
      expect(pathOf(fn.name), fn.name).toBe(expected);
    }
    expect(FUNCTIONS.some((fn) => fn.connector === 'read')).toBe(true);
    expect(FUNCTIONS.some((fn) => fn.connector === 'readWrite')).toBe(true);
  });

  it('may assume only the member roles, by name in any account: the write side plainly, the read side only as the read-only source identity', () => {
    const grants = statementsByRole(hub);
    const stsOf = (name: string): Statement[] => (grants.get(roleOfFunction(hub, name)) ?? []).filter((s) => asArray(s.Action).some((a) => String(a).startsWith('sts:')));
    const memberRoles = [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::*:role/nhigov-member']] }];
    for (const fn of FUNCTIONS) {
      const statements = stsOf(fn.name);
      if (fn.connector === 'none') {
        expect(statements, fn.name).toEqual([]);
        continue;
      }
      expect(statements, fn.name).toHaveLength(1);
      const [statement] = statements;
      expect(asArray(statement?.Resource), fn.name).toEqual(memberRoles);
      if (fn.connector === 'readWrite') {
        expect(statement?.Action, fn.name).toBe('sts:AssumeRole');
        expect(statement?.Condition, fn.name).toBeUndefined();
      } else {
        expect(asArray(statement?.Action).sort(), fn.name).toEqual(['sts:AssumeRole', 'sts:SetSourceIdentity']);
        expect(statement?.Condition, fn.name).toEqual({ StringEquals: { 'sts:SourceIdentity': READ_ONLY_SOURCE_IDENTITY } });
      }
    }
  });

  it('know their own account and partition, so member accounts are told from it', () => {
    const fn = hub.Resources[functionLogicalId(hub, 'nhigov-plan')];
    const env = (fn?.Properties?.['Environment'] as { Variables: Record<string, unknown> }).Variables;
    expect(env['NHIGOV_ACCOUNT_ID']).toEqual({ Ref: 'AWS::AccountId' });
    expect(env['NHIGOV_PARTITION']).toEqual({ Ref: 'AWS::Partition' });
  });
});
