/**
 * Least privilege, read from the synthesized template: the connector policies are exactly what
 * the connector actions declare (reads for every connector function, writes for the writer only),
 * no role can delete or update evidence, and no role can delete items of any table.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { capabilitiesOf } from '../../infra/lib/capabilities.js';
import { connectorActions, connectorStatements } from '../../infra/lib/connector-policy.js';
import { fromRoot } from '../../infra/lib/paths.js';
import { APPEND_ONLY_DENIED_ACTIONS, RUNTIME_RECORD_ACTIONS, TABLE_ACTIONS } from '../../infra/lib/tables.js';
import { EVIDENCE_WRITER_FUNCTION, FUNCTIONS, RUNTIME_RECORD_PARTITION, TABLES, type ConnectorAccess, type FunctionCapability } from '../../infra/resources.js';
import { CONNECTOR_ACTIONS, connectorPermissions, connectorTagKeys } from '../../lambdas/connectors/registry.js';
import { SNAPSHOT_PERMISSIONS } from '../../lambdas/connectors/snapshot-reader.js';
import { actionCovers, asArray, resourceMayInclude, statementsByRole, type Statement } from './support/iam.js';
import { buildStack, functionLogicalId, removedAfterAll, resourcesOfType, roleOfFunction as roleIn, TEST_CONTEXT, type CfnTemplate } from './support/stack.js';

const { json } = buildStack();
const byRole = statementsByRole(json);
const connectorPolicies = resourcesOfType(json, 'AWS::IAM::ManagedPolicy').filter(([id]) => id.startsWith('Connector'));

function policyStatements(template: CfnTemplate, side: 'Read' | 'Write'): Statement[] {
  const found = resourcesOfType(template, 'AWS::IAM::ManagedPolicy').find(([id]) => id.startsWith(`Connector${side}Policy`));
  if (!found) throw new Error(`no connector ${side} policy`);
  return (found[1].Properties?.['PolicyDocument'] as { Statement: Statement[] }).Statement;
}
const readStatements = policyStatements(json, 'Read');
const writeStatements = policyStatements(json, 'Write');
const connectorStatementsInTemplate = [...readStatements, ...writeStatements];

function roleOfFunction(name: string): string {
  return roleIn(json, name);
}

const GROUP_ACTIONS = ['iam:AddUserToGroup', 'iam:RemoveUserFromGroup'];

function allowed(statements: readonly Statement[]): Statement[] {
  return statements.filter((s) => s.Effect === 'Allow');
}

/** IAM / Secrets Manager actions that change nothing (GenerateCredentialReport makes the account's report, no IAM entity changes). */
const isReadAction = (action: string): boolean => /^(iam|secretsmanager):(Get|List|Describe|BatchGet)[A-Z]/.test(action) || action === 'iam:GenerateCredentialReport';

describe('the connector policies', () => {
  it('are two managed policies: reads (declared reads ∪ SNAPSHOT_PERMISSIONS) and writes (declared writes), exactly', () => {
    expect(connectorPolicies).toHaveLength(2);
    const actionsOf = (statements: Statement[]): string[] => statements.flatMap((s) => asArray(s.Action)).sort();
    expect(actionsOf(readStatements)).toEqual([...new Set([...connectorPermissions('read'), ...SNAPSHOT_PERMISSIONS])].sort());
    expect(actionsOf(writeStatements)).toEqual(connectorPermissions('write'));
    expect(actionsOf(readStatements).filter((a) => !isReadAction(a))).toEqual([]);
    expect(actionsOf(writeStatements).filter(isReadAction)).toEqual([]);
    expect(connectorStatementsInTemplate.every((s) => s.Effect === 'Allow' && s.NotAction === undefined)).toBe(true);
  });

  it('limits every action to NHIs tagged nhi-governed=true, except those IAM cannot evaluate a tag for', () => {
    for (const statement of connectorStatementsInTemplate) {
      if (statement.Sid === 'BulkReadsWithoutResource') {
        expect(statement.Resource).toBe('*');
        expect(asArray(statement.Action).sort()).toEqual(['iam:GenerateCredentialReport', 'iam:GetAccountAuthorizationDetails', 'iam:GetCredentialReport', 'secretsmanager:ListSecrets']);
      } else if (statement.Sid === 'IamGroupMembershipByPath') {
        expect(asArray(statement.Action).sort()).toEqual(GROUP_ACTIONS);
        expect(statement.Condition).toBeUndefined();
        expect(JSON.stringify(statement.Resource)).toMatch(/:group\/\*"\]\]\}$/);
      } else if (statement.Sid === 'IamCustomerManagedPolicyReads') {
        // Reads of customer-managed policies (their documents are in the bulk read already); writing one needs the tag (the else branch).
        expect(asArray(statement.Action).sort()).toEqual(['iam:GetPolicy', 'iam:GetPolicyVersion', 'iam:ListPolicyVersions']);
        expect(statement.Condition).toBeUndefined();
        expect(JSON.stringify(statement.Resource)).toMatch(/:policy\/\*"\]\]\}$/);
      } else {
        // Case-sensitive on the value on purpose: only "true" is governed (isGoverned); see GOVERNED_CONDITION.
        expect(statement.Condition?.['StringEquals'], statement.Sid).toEqual({ 'aws:ResourceTag/nhi-governed': 'true' });
      }
    }
  });

  it('writes a customer-managed policy (a new default version) only when it is tagged nhi-governed=true, never a policy of the stack', () => {
    const writes = connectorStatementsInTemplate.filter((s) => asArray(s.Action).some((a) => a === 'iam:CreatePolicyVersion' || a === 'iam:SetDefaultPolicyVersion'));
    expect(writes.map((s) => s.Sid)).toEqual(['IamCustomerManagedPolicyGovernedOnly']);
    expect(writes[0]?.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/nhi-governed': 'true' } });
    expect(JSON.stringify(writes[0]?.Resource)).toMatch(/:policy\/\*"\]\]\}$/);
  });

  it('gives group membership (authorized on the group, which has no tags) its own statement on the governed group path, never a tag-scoped one', () => {
    // IAM authorizes AddUserToGroup / RemoveUserFromGroup against the group ARN; groups cannot be
    // tagged, so under an aws:ResourceTag condition these calls would always be denied.
    expect(connectorActions()).toEqual(expect.arrayContaining(GROUP_ACTIONS));
    const withGroupActions = connectorStatementsInTemplate.filter((s) => asArray(s.Action).some((a) => GROUP_ACTIONS.includes(a)));
    expect(withGroupActions.map((s) => s.Sid)).toEqual(['IamGroupMembershipByPath']);
    const resources = asArray(withGroupActions[0]?.Resource as unknown[]);
    expect(resources).toHaveLength(1);
    expect(resources[0]).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':group/*']] });
  });

  it('follows the governedGroupPath context: arn:aws:iam::ACCOUNT:group${governedGroupPath}*, with cdk-nag still clean', () => {
    const { app, stack, json: scoped } = buildStack({ context: { ...TEST_CONTEXT, governedGroupPath: '/nhi/governed/' } });
    const statements = policyStatements(scoped, 'Write');
    const membership = statements.find((s) => s.Sid === 'IamGroupMembershipByPath');
    expect(asArray(membership?.Action).sort()).toEqual(GROUP_ACTIONS);
    expect(membership?.Resource).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':group/nhi/governed/*']] });
    const report = new AwsSolutionsChecks(app).validateScope(stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });

  it('reach exactly the roles their declared connector access names: reads for read and readWrite, writes for readWrite only', () => {
    const holding = (action: string): string[] =>
      [...byRole.entries()]
        .filter(([, statements]) => allowed(statements).some((s) => asArray(s.Action).includes(action)))
        .map(([role]) => role)
        .sort();
    const rolesWith = (...access: ConnectorAccess[]): string[] => FUNCTIONS.filter((fn) => access.includes(fn.connector)).map((fn) => roleOfFunction(fn.name)).sort();
    expect(holding('iam:GetAccountAuthorizationDetails')).toEqual(rolesWith('read', 'readWrite'));
    expect(holding('iam:UpdateAccessKey')).toEqual(rolesWith('readWrite'));
  });

  it('give the read-only functions (plan, check-stale, check-intent, verify-action, rollback-start, finalize-plan, attestation) no IAM or Secrets Manager write', () => {
    expect(FUNCTIONS.filter((fn) => fn.connector === 'read').map((fn) => fn.name).sort()).toEqual(['attestation', 'check-intent', 'check-stale', 'finalize-plan', 'plan', 'rollback-start', 'verify-action']);
    const writers: string[] = [];
    for (const [role, statements] of byRole) {
      const writes = allowed(statements)
        .flatMap((s) => asArray(s.Action))
        .filter((a) => /^(iam|secretsmanager):/.test(a) && !isReadAction(a));
      if (writes.length) writers.push(role);
    }
    expect(writers).toEqual([roleOfFunction('write-action')]);
  });

  it('grant iam:CreateAccessKey to the role where rotation runs only, and only rotation declares it', () => {
    const declaring = CONNECTOR_ACTIONS.filter((a) => a.permissions.write.includes('iam:CreateAccessKey')).map((a) => a.kind);
    expect(declaring).toEqual(['secrets.rotateAccessKeySecret']);
    const holding = [...byRole.entries()].filter(([, st]) => allowed(st).some((s) => asArray(s.Action).some((a) => actionCovers(a, 'iam:CreateAccessKey')))).map(([role]) => role);
    expect(holding).toEqual([roleOfFunction('write-action')]);
  });

  it('grant Attach*/Detach*Policy and inline policy writes to the writer only, under the governance tag', () => {
    // The quarantine is an inline policy (nhigov-quarantine), not a managed one: there is no
    // quarantine ARN to pin iam:PolicyARN to. Attach is iam.attachManagedPolicy, the inverse of a
    // detach, with any policy ARN; IAM has no condition key for an inline policy's name.
    const policyWrites = ['iam:AttachUserPolicy', 'iam:AttachRolePolicy', 'iam:DetachUserPolicy', 'iam:DetachRolePolicy', 'iam:PutUserPolicy', 'iam:PutRolePolicy', 'iam:DeleteUserPolicy', 'iam:DeleteRolePolicy'];
    for (const action of policyWrites) {
      const holding = [...byRole.entries()].filter(([, st]) => allowed(st).some((s) => asArray(s.Action).some((a) => actionCovers(a, action)))).map(([role]) => role);
      expect(holding, action).toEqual([roleOfFunction('write-action')]);
      const statement = writeStatements.find((s) => asArray(s.Action).includes(action));
      expect(statement?.Condition, action).toEqual({ StringEquals: { 'aws:ResourceTag/nhi-governed': 'true' } });
    }
  });

  it('let tagging actions set or remove only the declared tag keys, so never the governance tag in any letter case', () => {
    const tagging = connectorStatementsInTemplate.filter((s) => asArray(s.Action).some((a) => /:(Tag|Untag)[A-Z]/.test(a)));
    expect(tagging.map((s) => s.Sid).sort()).toEqual(['IamTagGovernedDeclaredKeysOnly', 'SecretsmanagerTagGovernedDeclaredKeysOnly']);
    for (const statement of tagging) {
      const service = asArray(statement.Action)[0]?.split(':')[0] ?? '';
      const keys = connectorTagKeys().get(service);
      expect(statement.Condition, statement.Sid).toEqual({
        StringEquals: { 'aws:ResourceTag/nhi-governed': 'true' },
        'ForAllValues:StringEquals': { 'aws:TagKeys': keys },
      });
      expect(keys?.some((k) => k.toLowerCase() === 'nhi-governed'), statement.Sid).toBe(false);
    }
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

  it('limits tagging actions to the declared tag keys', () => {
    const [statement] = render(['iam:TagUser', 'iam:UntagUser']);
    expect(statement?.Condition).toEqual({
      StringEquals: { 'aws:ResourceTag/nhi-governed': 'true' },
      'ForAllValues:StringEquals': { 'aws:TagKeys': ['owner'] },
    });
  });

  it('refuses tagging without declared keys, or with the governance tag among them in any case', () => {
    const withKeys = (keys: string[]) => () => connectorStatements(['iam:TagUser'], stack, { tagKeys: new Map([['iam', keys]]) });
    expect(withKeys([])).toThrow(/declare no tagKeys/);
    expect(withKeys(['owner', 'NHI-Governed'])).toThrow(/governance tag/);
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

  it('exactly one role can put evidence items, the evidence writer\'s: the others (the public approval API too) hand drafts over by SendMessage', () => {
    const tableId = logicalIdOf('evidence');
    const putting = [...byRole.entries()]
      .filter(([, statements]) => allowed(statements).some((s) => resourceMayInclude(s.Resource, tableId) && asArray(s.Action).some((a) => actionCovers(a, 'dynamodb:PutItem'))))
      .map(([role]) => role);
    expect(putting).toEqual([roleOfFunction(EVIDENCE_WRITER_FUNCTION)]);
    const handingOver = FUNCTIONS.filter((fn) => fn.uses?.includes('evidenceAppend')).map((fn) => fn.name);
    expect(handingOver).toContain('approval-api');
    const evidenceQueue = resourcesOfType(json, 'AWS::SQS::Queue').find(([id]) => id.startsWith('EvidenceQueue'))?.[0] ?? 'none';
    const sending = [...byRole.entries()]
      .filter(([, statements]) => allowed(statements).some((s) => resourceMayInclude(s.Resource, evidenceQueue) && asArray(s.Action).includes('sqs:SendMessage')))
      .map(([role]) => role)
      .sort();
    expect(sending).toEqual(handingOver.map(roleOfFunction).sort());
  });

  it('appending to evidence is PutItem plus the reads of the chain head, nothing else', () => {
    const tableId = logicalIdOf('evidence');
    for (const fn of FUNCTIONS.filter((f) => f.tables.some((t) => t.id === 'evidence' && t.access === 'append'))) {
      const statements = allowed(byRole.get(roleOfFunction(fn.name)) ?? []);
      const onEvidence = statements
        .filter((s) => resourceMayInclude(s.Resource, tableId))
        .flatMap((s) => asArray(s.Action))
        .filter((a) => a.startsWith('dynamodb:'));
      expect([...new Set(onEvidence)].sort(), fn.name).toEqual([...TABLE_ACTIONS.append].sort());
    }
  });

  it('the table resource policy denies what IAM policies could still allow (not PutItem: see README "Deploy to AWS")', () => {
    expect([...APPEND_ONLY_DENIED_ACTIONS]).toEqual(expect.arrayContaining(['dynamodb:DeleteItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem']));
  });
});

describe('item deletes', () => {
  it.each(TABLES.map((t) => [t.id] as const))('no role may delete items of %s (no store deletes; changes and approvals are readUpdate)', (id) => {
    const tableId = logicalIdOfTable(json, id);
    const deletes = ['dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:PartiQLDelete'];
    const violations: string[] = [];
    for (const [role, statements] of byRole) {
      for (const statement of allowed(statements).filter((s) => resourceMayInclude(s.Resource, tableId))) {
        for (const pattern of asArray(statement.Action)) for (const action of deletes) if (actionCovers(pattern, action)) violations.push(`${role}: ${pattern}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('no function declares readWrite on a table', () => {
    expect(FUNCTIONS.flatMap((fn) => fn.tables.filter((t) => t.access === 'readWrite').map((t) => `${fn.name}: ${t.id}`))).toEqual([]);
  });
});

describe('the policies table', () => {
  const policiesTable = logicalIdOfTable(json, 'policies');
  const ITEM_WRITES = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:PartiQLInsert', 'dynamodb:PartiQLUpdate', 'dynamodb:PartiQLDelete'];
  const RUNTIME_ONLY = { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [RUNTIME_RECORD_PARTITION] } };
  const onPolicies = (role: string): Statement[] => allowed(byRole.get(role) ?? []).filter((s) => resourceMayInclude(s.Resource, policiesTable));

  it('no role can write a policy version or move ACTIVE: item writes only on RUNTIME items, and only Put / Update', () => {
    const violations: string[] = [];
    for (const [role, statements] of byRole) {
      for (const statement of allowed(statements).filter((s) => resourceMayInclude(s.Resource, policiesTable))) {
        const writes = asArray(statement.Action).filter((pattern) => ITEM_WRITES.some((action) => actionCovers(pattern, action)));
        if (!writes.length) continue;
        if (JSON.stringify(statement.Condition) !== JSON.stringify(RUNTIME_ONLY)) violations.push(`${role}: ${writes.join(', ')} without the RUNTIME condition`);
        for (const write of writes) if (!(RUNTIME_RECORD_ACTIONS as readonly string[]).includes(write)) violations.push(`${role}: ${write}`);
        if (JSON.stringify(statement.Resource).includes('/index/')) violations.push(`${role}: writes through an index ARN`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('readRecordRuntime is read on the table plus PutItem / UpdateItem under dynamodb:LeadingKeys = RUNTIME', () => {
    const recording = FUNCTIONS.filter((fn) => fn.tables.some((t) => t.id === 'policies' && t.access === 'readRecordRuntime'));
    expect(recording.length).toBeGreaterThan(0);
    for (const fn of recording) {
      const statements = onPolicies(roleOfFunction(fn.name));
      const conditioned = statements.filter((s) => s.Condition !== undefined);
      expect(conditioned.map((s) => s.Condition), fn.name).toEqual([RUNTIME_ONLY]);
      expect(asArray(conditioned[0]?.Action).sort(), fn.name).toEqual([...RUNTIME_RECORD_ACTIONS].sort());
      const unconditioned = [...new Set(statements.filter((s) => s.Condition === undefined).flatMap((s) => asArray(s.Action)).filter((a) => a.startsWith('dynamodb:')))].sort();
      expect(unconditioned, fn.name).toEqual([...TABLE_ACTIONS.read].sort());
    }
  });

  it('every function whose handler calls loadPolicy() may record its RUNTIME item (read-only functions get no write)', () => {
    const callers = FUNCTIONS.filter((fn) => callsLoadPolicy(fn.entry)).map((fn) => fn.name);
    expect(callers).toContain('plan');
    for (const fn of FUNCTIONS) {
      const writes = onPolicies(roleOfFunction(fn.name))
        .filter((s) => JSON.stringify(s.Condition) === JSON.stringify(RUNTIME_ONLY))
        .flatMap((s) => asArray(s.Action))
        .sort();
      expect(writes, fn.name).toEqual(callers.includes(fn.name) ? [...RUNTIME_RECORD_ACTIONS].sort() : []);
    }
  });
});

describe('capabilities come from each function\'s `uses`', () => {
  const environmentOf = (name: string): Record<string, unknown> => {
    const fn = json.Resources[functionLogicalId(json, `nhigov-${name}`)];
    return (fn?.Properties?.['Environment'] as { Variables: Record<string, unknown> }).Variables;
  };
  const grants = (name: string, action: string): boolean => allowed(byRole.get(roleOfFunction(name)) ?? []).some((s) => asArray(s.Action).includes(action));

  it.each(FUNCTIONS.map((fn) => [fn.name, capabilitiesOf(fn)] as const))('%s: %j, and nothing else', (name, uses) => {
    const has = (capability: FunctionCapability): boolean => uses.includes(capability);
    const env = environmentOf(name);
    expect({
      startExecution: grants(name, 'states:StartExecution'),
      taskResponse: grants(name, 'states:SendTaskSuccess'),
      sendEmail: grants(name, 'ses:SendEmail'),
      sesSenderEnv: 'NHIGOV_SES_SENDER' in env,
      slackEnv: 'NHIGOV_SLACK_WEBHOOK_SECRET_ARN' in env,
      approvalKeyEnv: 'NHIGOV_APPROVAL_HMAC_SECRET_ARN' in env,
    }).toEqual({
      startExecution: has('startChange') || has('startRollback'),
      taskResponse: has('taskResponse'),
      sendEmail: has('sendEmail'),
      sesSenderEnv: has('sendEmail'),
      slackEnv: has('slackWebhook'),
      approvalKeyEnv: has('approvalKey'),
    });
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

function logicalIdOfTable(template: CfnTemplate, id: string): string {
  const found = resourcesOfType(template, 'AWS::DynamoDB::Table').find(([, r]) => r.Properties?.['TableName'] === `nhigov-${id}`);
  if (!found) throw new Error(`no table ${id}`);
  return found[0];
}

/**
 * Whether a handler, or a module it imports by relative path, calls `rt.loadPolicy()` (which
 * records the runtime's policy version): read from the source, so a new caller cannot be missed.
 */
function callsLoadPolicy(entry: string, seen = new Set<string>()): boolean {
  const file = fromRoot(entry);
  if (seen.has(file)) return false;
  seen.add(file);
  const source = readFileSync(file, 'utf8');
  if (/\.loadPolicy\(\)/.test(source)) return true;
  for (const [, spec] of source.matchAll(/from '(\.{1,2}\/[^']+)\.js'/g)) {
    const imported = path.join(path.dirname(entry), `${spec}.ts`);
    if (imported.startsWith('lambdas/') && existsSync(fromRoot(imported)) && callsLoadPolicy(imported, seen)) return true;
  }
  return false;
}
