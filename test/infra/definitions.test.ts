/**
 * The stack follows the shared definitions wherever they go: optional parts appear only when
 * their definitions do, and definitions the stack cannot deploy safely fail synth with a reason.
 */
import { rmSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAsl, taskResources } from '../../infra/lib/asl.js';
import { capabilitiesOf } from '../../infra/lib/capabilities.js';
import { parseDeployConfig } from '../../infra/lib/config.js';
import { NhiGovernorStack, SHARED_DEFINITIONS, type StackDefinitions } from '../../infra/lib/stack.js';
import type { FunctionDefinition } from '../../infra/resources.js';
import { asArray, statementsByRole } from './support/iam.js';
import { buildStack, resourcesOfType, roleOfFunction, TEST_CONTEXT } from './support/stack.js';

const fn = (name: string, overrides: Partial<FunctionDefinition> = {}): FunctionDefinition => ({
  name,
  entry: 'lambdas/handlers/ingest.ts',
  description: `test ${name}`,
  timeoutSeconds: 30,
  tables: [],
  connector: 'none',
  ...overrides,
});

/** The one function that puts evidence items; every stack has it. */
const WRITER = fn('evidence-writer', { tables: [{ id: 'evidence', access: 'append' }] });

/** ingest, two functions, the evidence writer and one state machine: the smallest stack with a workflow. */
const MINIMAL: StackDefinitions = {
  ...SHARED_DEFINITIONS,
  // `uses` on a function not named ingest, none on ingest: capabilities follow the declaration, not the name.
  functions: [fn('ingest', { tables: [{ id: 'changes', access: 'read' }] }), fn('ask', { uses: ['startChange'] }), fn('work', { tables: [{ id: 'evidence', access: 'read' }, { id: 'changes', access: 'readUpdate' }], uses: ['evidenceAppend'] }), WRITER],
  stateMachines: [{ id: 'change', file: 'test/infra/fixtures/callback.asl.json', functionSubstitutions: { AskFunctionArn: 'ask', WorkFunctionArn: 'work' } }],
};

const apps: App[] = [];
afterAll(() => apps.forEach((app) => rmSync(app.outdir, { recursive: true, force: true })));

/** Builds without synthesizing (the refusals happen while constructing). */
function construct(definitions: StackDefinitions): NhiGovernorStack {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  apps.push(app);
  return new NhiGovernorStack(app, 'Test', { config: parseDeployConfig((key) => TEST_CONTEXT[key]), definitions });
}

describe('optional parts follow the definitions', () => {
  const { json } = buildStack({ definitions: MINIMAL });

  it('without an approval-api function: no function URL, no approval URL in any environment', () => {
    expect(resourcesOfType(json, 'AWS::Lambda::Url')).toEqual([]);
    expect(JSON.stringify(json.Resources)).not.toContain('NHIGOV_APPROVAL_BASE_URL');
  });

  it('without a finalize state machine: only the reconcile schedule', () => {
    const schedules = resourcesOfType(json, 'AWS::Scheduler::Schedule');
    expect(schedules).toHaveLength(1);
    expect(JSON.stringify(schedules[0]?.[1].Properties)).toContain('Reconcile Requested');
  });

  it('grants the state machine exactly the functions its ASL names, callback tasks in a Map included', () => {
    const statements = resourcesOfType(json, 'AWS::IAM::Policy').flatMap(([, p]) => (p.Properties?.['PolicyDocument'] as { Statement: Array<{ Action: unknown; Resource: unknown }> }).Statement);
    const invoke = statements.filter((s) => s.Action === 'lambda:InvokeFunction');
    expect(invoke).toHaveLength(1);
    expect(JSON.stringify(invoke[0]?.Resource)).toMatch(/FunctionsAsk.*FunctionsWork|FunctionsWork.*FunctionsAsk/);
  });

  it('grants capabilities from each function\'s `uses` field, not from its name', () => {
    const byRole = statementsByRole(json);
    const starts = (name: string): boolean =>
      (byRole.get(roleOfFunction(json, name)) ?? []).some((s) => s.Effect === 'Allow' && asArray(s.Action).includes('states:StartExecution'));
    expect({ ingest: starts('ingest'), ask: starts('ask'), work: starts('work') }).toEqual({ ingest: false, ask: true, work: false });
  });
});

describe('definitions the stack refuses', () => {
  it('readWrite on an append-only table (it would allow DeleteItem / UpdateItem)', () => {
    const definitions = { ...MINIMAL, functions: [...MINIMAL.functions.slice(0, 2), fn('work', { tables: [{ id: 'evidence', access: 'readWrite' }] }), WRITER] };
    expect(() => construct(definitions)).toThrow(/"evidence" is append-only/);
  });

  it.each(['readUpdate', 'readRecordRuntime'] as const)('%s on an append-only table (it would allow UpdateItem)', (access) => {
    const definitions = { ...MINIMAL, functions: [...MINIMAL.functions.slice(0, 2), fn('work', { tables: [{ id: 'evidence', access }] }), WRITER] };
    expect(() => construct(definitions)).toThrow(/"evidence" is append-only/);
  });

  it('putting evidence items from any function but the evidence writer (the others hand drafts over)', () => {
    const definitions = { ...MINIMAL, functions: [...MINIMAL.functions.slice(0, 2), fn('work', { tables: [{ id: 'evidence', access: 'append' }] }), WRITER] };
    expect(() => construct(definitions)).toThrow(/function "work" appends to evidence itself: only "evidence-writer" writes it/);
  });

  it('no evidence writer', () => {
    expect(() => construct({ ...MINIMAL, functions: MINIMAL.functions.slice(0, 3) })).toThrow(/no function "evidence-writer"/);
  });

  it('no ingest function', () => {
    expect(() => construct({ ...MINIMAL, functions: MINIMAL.functions.slice(1) })).toThrow(/no function "ingest"/);
  });

  it('readRecordRuntime on an append-only table (it would allow UpdateItem)', () => {
    const definitions = { ...MINIMAL, functions: [...MINIMAL.functions.slice(0, 2), fn('work', { tables: [{ id: 'plans', access: 'readRecordRuntime' }] }), WRITER] };
    expect(() => construct(definitions)).toThrow(/"plans" is append-only/);
  });

  it('an unknown or repeated capability in `uses` (definitions that bypassed the type checker)', () => {
    const odd = { ...fn('odd'), uses: ['sendFax'] } as unknown as FunctionDefinition;
    expect(() => capabilitiesOf(odd)).toThrow(/unknown capability "sendFax"/);
    expect(() => capabilitiesOf(fn('twice', { uses: ['approvalKey', 'approvalKey'] }))).toThrow(/twice/);
    expect(() => construct({ ...MINIMAL, functions: [...MINIMAL.functions, odd] })).toThrow(/unknown capability "sendFax"/);
    expect(capabilitiesOf(fn('x', { uses: ['approvalKey'] }))).toEqual(['approvalKey']);
    expect(capabilitiesOf(fn('none'))).toEqual([]);
  });

  it('a capability whose state machine the definitions do not have', () => {
    expect(() => construct({ ...MINIMAL, functions: [...MINIMAL.functions, fn('undo', { uses: ['startRollback'] })] })).toThrow(/rollback/);
  });

  it('an ASL placeholder without a substitution, and a substitution the ASL does not use', () => {
    const file = 'test/infra/fixtures/callback.asl.json';
    expect(() => loadAsl({ id: 'change', file, functionSubstitutions: { WorkFunctionArn: 'work' } })).toThrow(/\$\{AskFunctionArn\} not in functionSubstitutions/);
    expect(() => loadAsl({ id: 'change', file, functionSubstitutions: { AskFunctionArn: 'a', WorkFunctionArn: 'w', Extra: 'x' } })).toThrow(/Extra are not used/);
  });

  it('a service integration the stack grants nothing for', () => {
    expect(() => loadAsl({ id: 'change', file: 'test/infra/fixtures/direct-integration.asl.json', functionSubstitutions: { WorkFunctionArn: 'work' } })).toThrow(
      /arn:aws:states:::dynamodb:putItem" is a service integration/,
    );
  });

  it('finds task resources in nested Map and Parallel states', () => {
    const asl = { States: { A: { Type: 'Parallel', Branches: [{ States: { B: { Type: 'Task', Resource: 'b' } } }] }, C: { Type: 'Map', Iterator: { States: { D: { Type: 'Task', Resource: 'd' } } } } } };
    expect(taskResources(asl)).toEqual(['b', 'd']);
  });
});
