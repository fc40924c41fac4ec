/**
 * Least privilege, read from the synthesized template: the connector policy is exactly what the
 * connector actions declare, it reaches only connector functions, and no role can delete or
 * overwrite evidence.
 */
import { App, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { connectorActions, connectorStatements } from '../../infra/lib/connector-policy.js';
import { APPEND_ONLY_DENIED_ACTIONS, TABLE_ACTIONS } from '../../infra/lib/tables.js';
import { FUNCTIONS, TABLES } from '../../infra/resources.js';
import { connectorPermissions } from '../../lambdas/connectors/registry.js';
import { SNAPSHOT_PERMISSIONS } from '../../lambdas/connectors/snapshot-reader.js';
import { actionCovers, asArray, resourceMayInclude, statementsByRole, type Statement } from './support/iam.js';
import { buildStack, functionLogicalId, removedAfterAll, resourcesOfType } from './support/stack.js';

const { json } = buildStack();
const byRole = statementsByRole(json);
const connectorPolicy = resourcesOfType(json, 'AWS::IAM::ManagedPolicy');
const connectorStatementsInTemplate = (connectorPolicy[0]?.[1].Properties?.['PolicyDocument'] as { Statement: Statement[] }).Statement;

function roleOfFunction(name: string): string {
  const fn = json.Resources[functionLogicalId(json, `nhigov-${name}`)];
  return (fn?.Properties?.['Role'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
}

function allowed(statements: readonly Statement[]): Statement[] {
  return statements.filter((s) => s.Effect === 'Allow');
}

describe('the connector policy', () => {
  it('is one managed policy granting exactly connectorPermissions() ∪ SNAPSHOT_PERMISSIONS', () => {
    expect(connectorPolicy).toHaveLength(1);
    const granted = connectorStatementsInTemplate.flatMap((s) => asArray(s.Action)).sort();
    const declared = [...new Set([...connectorPermissions(), ...SNAPSHOT_PERMISSIONS])].sort();
    expect(granted).toEqual(declared);
    expect(connectorStatementsInTemplate.every((s) => s.Effect === 'Allow' && s.NotAction === undefined)).toBe(true);
  });

  it('limits every action to NHIs tagged nhi-governed=true, except those IAM cannot evaluate a tag for', () => {
    for (const statement of connectorStatementsInTemplate) {
      if (statement.Sid === 'BulkReadsWithoutResource') {
        expect(statement.Resource).toBe('*');
        expect(asArray(statement.Action).sort()).toEqual(['iam:GetAccountAuthorizationDetails', 'secretsmanager:ListSecrets']);
      } else if (statement.Sid === 'IamGroupMembershipByPath') {
        expect(asArray(statement.Action).every((a) => ['iam:AddUserToGroup', 'iam:RemoveUserFromGroup'].includes(a))).toBe(true);
        expect(JSON.stringify(statement.Resource)).toMatch(/:group\/\*"\]\]\}$/);
      } else {
        expect(statement.Condition?.['StringEquals'], statement.Sid).toEqual({ 'aws:ResourceTag/nhi-governed': 'true' });
      }
    }
  });

  it('is attached to the role of every connector function and of no other', () => {
    const attachedTo = [...byRole.entries()]
      .filter(([, statements]) => statements.some((s) => asArray(s.Action).includes('iam:UpdateAccessKey')))
      .map(([role]) => role)
      .sort();
    expect(attachedTo).toEqual(FUNCTIONS.filter((fn) => fn.connector).map((fn) => roleOfFunction(fn.name)).sort());
  });

  it('is the only way a role reaches IAM', () => {
    const connectorActionsSet = new Set(connectorActions());
    for (const [role, statements] of byRole) {
      const iamActions = allowed(statements).flatMap((s) => asArray(s.Action)).filter((a) => a.startsWith('iam:'));
      for (const action of iamActions) expect(connectorActionsSet.has(action), `${role}: ${action}`).toBe(true);
    }
  });
});

describe('connector statements', () => {
  const stack = new Stack(removedAfterAll(new App()), 'Scope');
  const render = (actions: string[]): Statement[] => connectorStatements(actions, stack).map((s) => stack.resolve(s.toStatementJson()) as Statement);

  it('keeps tagging actions off the governance tag itself', () => {
    const [statement] = render(['iam:TagUser', 'iam:UntagUser']);
    expect(statement?.Condition).toEqual({
      StringEquals: { 'aws:ResourceTag/nhi-governed': 'true' },
      'ForAllValues:StringNotEquals': { 'aws:TagKeys': ['nhi-governed'] },
    });
  });

  it('scopes Secrets Manager actions to governed secrets of the account and region', () => {
    const [statement] = render(['secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage']);
    expect(statement?.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/nhi-governed': 'true' } });
    expect(JSON.stringify(statement?.Resource)).toContain(':secret:*');
  });

  it('limits group membership to the groups under the configured path', () => {
    const [statement] = connectorStatements(['iam:RemoveUserFromGroup'], stack, { groupPath: '/governed/' }).map((st) => stack.resolve(st.toStatementJson()) as Statement);
    expect(statement?.Condition).toBeUndefined();
    expect(JSON.stringify(statement?.Resource)).toContain(':group/governed/*');
  });

  it('refuses a service it has no scoping rule for, instead of granting it on "*"', () => {
    expect(() => render(['sts:AssumeRole'])).toThrow(/no scoping rule/);
  });
});

describe('evidence and other append-only tables', () => {
  const appendOnly = TABLES.filter((t) => t.appendOnly);
  const logicalIdOf = (id: string): string => {
    const found = resourcesOfType(json, 'AWS::DynamoDB::Table').find(([, r]) => r.Properties?.['TableName'] === `nhigov-${id}`);
    if (!found) throw new Error(`no table ${id}`);
    return found[0];
  };

  it.each(appendOnly.map((t) => [t.id] as const))('no role may delete, update or batch-write items of %s', (id) => {
    const tableId = logicalIdOf(id);
    const forbidden = ['dynamodb:DeleteItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem', 'dynamodb:PartiQLDelete', 'dynamodb:PartiQLUpdate'];
    const violations: string[] = [];
    for (const [role, statements] of byRole) {
      for (const statement of allowed(statements)) {
        if (statement.NotAction !== undefined) violations.push(`${role}: Allow with NotAction`);
        if (!resourceMayInclude(statement.Resource, tableId)) continue;
        for (const pattern of asArray(statement.Action)) {
          for (const action of forbidden) if (actionCovers(pattern, action)) violations.push(`${role}: ${pattern}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it('appending to evidence is PutItem plus the reads of the chain head, nothing else', () => {
    const tableId = logicalIdOf('evidence');
    for (const fn of FUNCTIONS.filter((f) => f.tables.some((t) => t.id === 'evidence'))) {
      const statements = allowed(byRole.get(roleOfFunction(fn.name)) ?? []);
      const onEvidence = statements
        .filter((s) => resourceMayInclude(s.Resource, tableId))
        .flatMap((s) => asArray(s.Action))
        .filter((a) => a.startsWith('dynamodb:'));
      expect([...new Set(onEvidence)].sort(), fn.name).toEqual([...TABLE_ACTIONS.append].sort());
    }
  });

  it('the table resource policy denies what IAM policies could still allow', () => {
    expect([...APPEND_ONLY_DENIED_ACTIONS]).toEqual(expect.arrayContaining(['dynamodb:DeleteItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem']));
  });
});

describe('other grants', () => {
  it('lets only the approval endpoint answer callback tasks', () => {
    const answering = [...byRole.entries()]
      .filter(([, statements]) => allowed(statements).some((s) => asArray(s.Action).includes('states:SendTaskSuccess')))
      .map(([role]) => role);
    const expected = FUNCTIONS.some((fn) => fn.name === 'approval-api') ? [roleOfFunction('approval-api')] : [];
    expect(answering).toEqual(expected);
  });

  it('sends mail only from the configured sender', () => {
    for (const [, statements] of byRole) {
      for (const statement of allowed(statements).filter((s) => asArray(s.Action).some((a) => a.startsWith('ses:')))) {
        expect(asArray(statement.Action)).toEqual(['ses:SendEmail']);
        expect(statement.Condition).toEqual({ StringEquals: { 'ses:FromAddress': 'nhigov@example.com' } });
      }
    }
  });

  it('never tags a resource of the stack nhi-governed (the connector must not be able to act on its own roles)', () => {
    expect(JSON.stringify(json.Resources)).not.toContain('"Key":"nhi-governed"');
  });
});
