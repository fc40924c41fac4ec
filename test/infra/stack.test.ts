/**
 * The stack as `cdk synth` builds it (every handler bundled by esbuild, CloudFormation schema
 * validation on): functions, tables, cdk-nag, and a snapshot of the whole template.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { FUNCTIONS, STATE_MACHINES, TABLES, tableEnvName } from '../../infra/resources.js';
import { buildStack, functionLogicalId, resourcesOfType, TEST_POLICY_PUBLIC_KEY, type CfnTemplate } from './support/stack.js';

const built = buildStack({ bundle: true, validate: true });
const { app, stack, template, json } = built;

describe('functions', () => {
  it.each(FUNCTIONS.map((fn) => [fn.name, fn] as const))('%s is bundled from its entry by the local esbuild, ESM, no source map', (name) => {
    const logicalId = functionLogicalId(json, `nhigov-${name}`);
    const assetPath = json.Resources[logicalId]?.Metadata?.['aws:asset:path'];
    expect(typeof assetPath).toBe('string');
    const assetDir = path.join(app.synth().directory, String(assetPath));
    const files = readdirSync(assetDir);
    expect(files).toContain('index.mjs');
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(existsSync(path.join(assetDir, 'node_modules'))).toBe(false);
  });

  it('runs every function on Node.js 24 with X-Ray, Powertools settings, its own log group and the shared environment', () => {
    const tableEnv = Object.fromEntries(TABLES.map((t) => [tableEnvName(t.id), `nhigov-${t.id}`]));
    for (const fn of FUNCTIONS) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: `nhigov-${fn.name}`,
        Runtime: 'nodejs24.x',
        Handler: 'index.handler',
        Timeout: fn.timeoutSeconds,
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('Logs') } },
        Environment: {
          Variables: Match.objectLike({
            ...tableEnv,
            POWERTOOLS_SERVICE_NAME: 'nhi-governor',
            POWERTOOLS_METRICS_NAMESPACE: 'NhiGovernor',
            NHIGOV_POLICY_PUBLIC_KEY: TEST_POLICY_PUBLIC_KEY,
            NHIGOV_RUNTIME_NAME: `lambda:nhigov-${fn.name}`,
            NHIGOV_CHANGE_STATE_MACHINE_ARN: Match.anyValue(),
          }),
        },
      });
    }
    expect(resourcesOfType(json, 'AWS::Lambda::Function')).toHaveLength(FUNCTIONS.length);
  });

  it('gives every log group a retention', () => {
    const groups = resourcesOfType(json, 'AWS::Logs::LogGroup');
    expect(groups.length).toBeGreaterThanOrEqual(FUNCTIONS.length);
    for (const [, group] of groups) expect(group.Properties?.['RetentionInDays']).toBe(90);
  });
});

describe('tables', () => {
  it.each(TABLES.map((t) => [t.id, t] as const))('%s: on-demand, point-in-time recovery, the customer-managed key', (id, definition) => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: `nhigov-${id}`,
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TablesKey'), 'Arn'] } },
      DeletionProtectionEnabled: definition.appendOnly,
    });
  });

  it('rotates the table key', () => {
    template.hasResourceProperties('AWS::KMS::Key', { Description: Match.stringLikeRegexp('evidence'), EnableKeyRotation: true });
  });

  it('denies item deletes and updates on append-only tables to every principal, in the table resource policy', () => {
    const evidence = tableOf(json, 'evidence');
    expect(evidence.Properties?.['ResourcePolicy']).toEqual({
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'AppendOnlyNoDeleteNoUpdate',
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: ['dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:PartiQLDelete', 'dynamodb:PartiQLUpdate', 'dynamodb:UpdateItem'],
            Resource: '*',
          },
        ],
      },
    });
    expect(tableOf(json, 'changes').Properties?.['ResourcePolicy']).toBeUndefined();
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('reports no finding that is not acknowledged in code', () => {
    const report = new AwsSolutionsChecks(app).validateScope(stack);
    const findings = report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.resourceLogicalId).join(', ')}`);
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });
});

describe('template snapshot', () => {
  it('matches the reviewed template (asset hashes masked; run vitest -u after a reviewed change)', async () => {
    await expect(`${JSON.stringify(masked(json), null, 1)}\n`).toMatchFileSnapshot('./__snapshots__/NhiGovernor.template.json');
  });
});

function tableOf(template: CfnTemplate, id: string): NonNullable<CfnTemplate['Resources'][string]> {
  const found = resourcesOfType(template, 'AWS::DynamoDB::Table').find(([, r]) => r.Properties?.['TableName'] === `nhigov-${id}`);
  if (!found) throw new Error(`no table ${id}`);
  return found[1];
}

/**
 * What changes with every handler or workflow edit is masked: asset hashes, and the ASL text
 * (workflows.test.ts asserts each definition equals its file). The snapshot guards the
 * infrastructure around them.
 */
function masked(template: CfnTemplate): unknown {
  const copy = JSON.parse(JSON.stringify(template).replace(/[0-9a-f]{64}/g, '<asset-hash>')) as CfnTemplate;
  for (const [, resource] of resourcesOfType(copy, 'AWS::StepFunctions::StateMachine')) {
    const properties = resource.Properties as Record<string, unknown>;
    const definition = STATE_MACHINES.find((sm) => properties['StateMachineName'] === `nhigov-${sm.id}`);
    properties['DefinitionString'] = `<${definition?.file ?? 'unknown ASL'}>`;
  }
  return copy;
}
