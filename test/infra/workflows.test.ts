/**
 * The state machines are the ASL files with their placeholders resolved to the stack's
 * functions; the event route and the schedules reach `ingest` the way docs/architecture.md describes.
 */
import { readFileSync } from 'node:fs';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { fromRoot } from '../../infra/lib/paths.js';
import { EVENT_RULES, FUNCTIONS, STATE_MACHINES } from '../../infra/resources.js';
import { matchesPattern } from './support/event-pattern.js';
import { buildStack, functionLogicalId, resourcesOfType } from './support/stack.js';

const { template, json } = buildStack();

/** One sample event per event type of docs/events.md, and events no rule may take. */
const SAMPLES = {
  'Employee Terminated': { source: 'hr.system', 'detail-type': 'Employee Terminated', detail: { employeeId: 'E1001', email: 'alice@example.com', managerEmail: 'bob@example.com' } },
  'Owner Changed': { source: 'hr.system', 'detail-type': 'Owner Changed', detail: { nhi: 'svc-billing', fromEmail: 'alice@example.com', toEmail: 'bob@example.com' } },
  'Credential Exposed': { source: 'security.findings', 'detail-type': 'Credential Exposed', detail: { nhi: 'svc-ci', accessKeyId: 'AKIAIOSFODNN7EXAMPLE', severity: 'high' } },
  'Reconcile Requested': { source: 'nhigov', 'detail-type': 'Reconcile Requested', detail: { scope: 'all' } },
} as const;
const FOREIGN_EVENTS = [
  { source: 'hr.system', 'detail-type': 'Employee Hired', detail: { employeeId: 'E2', email: 'carol@example.com' } },
  { source: 'security.findings', 'detail-type': 'Employee Terminated', detail: { employeeId: 'E1001', email: 'alice@example.com' } },
  { source: 'nhigov', 'detail-type': 'Credential Exposed', detail: { nhi: 'svc-ci', severity: 'high' } },
  { source: 'aws.iam', 'detail-type': 'AWS API Call via CloudTrail', detail: { eventName: 'UpdateAccessKey' } },
];

describe('state machines', () => {
  it.each(STATE_MACHINES.map((sm) => [sm.id, sm] as const))('%s is its ASL file, placeholders resolved to the stack functions', (id, definition) => {
    const [, resource] = stateMachineOf(id);
    const props = resource.Properties ?? {};
    expect(JSON.parse(String(props['DefinitionString']))).toEqual(JSON.parse(readFileSync(fromRoot(definition.file), 'utf8')));
    const expected = Object.fromEntries(
      Object.entries(definition.functionSubstitutions).map(([placeholder, fn]) => [placeholder, { 'Fn::GetAtt': [functionLogicalId(json, `nhigov-${fn}`), 'Arn'] }]),
    );
    expect(props['DefinitionSubstitutions']).toEqual(expected);
  });

  it.each(STATE_MACHINES.map((sm) => [sm.id] as const))('%s logs ALL events (without execution data: task tokens) and traces with X-Ray', (id) => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: `nhigov-${id}`,
      StateMachineType: 'STANDARD',
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false, Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: Match.anyValue() } }] },
      TracingConfiguration: { Enabled: true },
    });
  });

  it.each(STATE_MACHINES.map((sm) => [sm.id, sm] as const))('%s may invoke exactly the functions its ASL names', (id, definition) => {
    const [, resource] = stateMachineOf(id);
    const roleRef = (resource.Properties?.['RoleArn'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const invokes = resourcesOfType(json, 'AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties?.['Roles']).includes(roleRef))
      .flatMap(([, p]) => (p.Properties?.['PolicyDocument'] as { Statement: Array<{ Action: unknown; Resource: unknown }> }).Statement)
      .filter((s) => JSON.stringify(s.Action).includes('lambda:'));
    expect(invokes.map((s) => s.Action)).toEqual(['lambda:InvokeFunction']);
    const expected = [...new Set(Object.values(definition.functionSubstitutions))].map((fn) => ({ 'Fn::GetAtt': [functionLogicalId(json, `nhigov-${fn}`), 'Arn'] }));
    expect(invokes[0]?.Resource).toEqual(expect.arrayContaining(expected));
    expect(invokes[0]?.Resource).toHaveLength(expected.length);
  });
});

describe('event route', () => {
  const rules = resourcesOfType(json, 'AWS::Events::Rule');

  it('has one rule per event type, on the configured bus, targeting the ingest queue with a dead-letter queue', () => {
    expect(rules).toHaveLength(EVENT_RULES.length);
    for (const [, rule] of rules) {
      expect(rule.Properties?.['EventBusName']).toBe('governance');
      expect(rule.Properties?.['Targets']).toEqual([
        {
          Arn: { 'Fn::GetAtt': [expect.stringMatching(/^EventsIngestQueue/), 'Arn'] },
          Id: 'Target0',
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [expect.stringMatching(/^EventsDeadLetterQueue/), 'Arn'] } },
        },
      ]);
    }
  });

  it.each(EVENT_RULES.map((r) => [r.detailType] as const))('the "%s" rule takes its sample event and no other', (detailType) => {
    const rule = rules.find(([, r]) => JSON.stringify(r.Properties?.['EventPattern']).includes(`"${detailType}"`));
    expect(rule).toBeDefined();
    const pattern = rule?.[1].Properties?.['EventPattern'] as Record<string, unknown>;
    const taken = Object.entries(SAMPLES).filter(([, event]) => matchesPattern(pattern, event)).map(([type]) => type);
    expect(taken).toEqual([detailType]);
    expect(FOREIGN_EVENTS.filter((event) => matchesPattern(pattern, event))).toEqual([]);
  });

  it('delivers the queue to ingest in batches that report item failures; the queue and its DLQ refuse plain HTTP', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: functionLogicalId(json, 'nhigov-ingest') },
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EventsIngestQueue'), 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const ingest = FUNCTIONS.find((fn) => fn.name === 'ingest');
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: (ingest?.timeoutSeconds ?? 0) * 6,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EventsDeadLetterQueue'), 'Arn'] }, maxReceiveCount: 5 },
    });
    const policies = resourcesOfType(json, 'AWS::SQS::QueuePolicy').map(([, p]) => JSON.stringify(p.Properties));
    expect(policies).toHaveLength(2);
    for (const policy of policies) expect(policy).toContain('"aws:SecureTransport":"false"');
  });

  it('gives ingest StartExecution on the change state machine, by its fixed name', () => {
    const policy = resourcesOfType(json, 'AWS::IAM::Policy').find(([id]) => id.startsWith('FunctionsIngestRole'));
    expect(JSON.stringify(policy?.[1].Properties)).toContain('"Action":"states:StartExecution"');
    expect(JSON.stringify(policy?.[1].Properties)).toContain(':stateMachine:nhigov-change"');
  });
});

describe('schedules', () => {
  it('puts a daily "Reconcile Requested" event with scope all on the bus, deduplicated per scheduled time', () => {
    const schedules = resourcesOfType(json, 'AWS::Scheduler::Schedule');
    const reconcile = schedules.find(([, s]) => JSON.stringify(s.Properties).includes('Reconcile Requested'));
    expect(reconcile?.[1].Properties?.['ScheduleExpression']).toBe('cron(0 3 * * ? *)');
    const target = reconcile?.[1].Properties?.['Target'] as { Input: string; EventBridgeParameters: unknown; Arn: unknown };
    expect(target.EventBridgeParameters).toEqual({ DetailType: 'Reconcile Requested', Source: 'nhigov' });
    expect(JSON.parse(target.Input)).toEqual({ scope: 'all', eventId: 'reconcile-<aws.scheduler.scheduled-time>' });
    expect(JSON.stringify(target.Arn)).toContain(':event-bus/governance');
  });

  it('runs finalize daily with the input finalize-plan reads, when there is a finalize state machine', () => {
    const finalize = resourcesOfType(json, 'AWS::Scheduler::Schedule').filter(([, s]) => JSON.stringify(s.Properties).includes('WorkflowsFinalize'));
    expect(finalize).toHaveLength(STATE_MACHINES.some((sm) => sm.id === 'finalize') ? 1 : 0);
    for (const [, schedule] of finalize) {
      expect(schedule.Properties?.['ScheduleExpression']).toBe('cron(30 3 * * ? *)');
      expect(JSON.parse((schedule.Properties?.['Target'] as { Input: string }).Input)).toEqual({ trigger: 'schedule', scheduledTime: '<aws.scheduler.scheduled-time>' });
    }
  });
});

describe('approval endpoint', () => {
  it.runIf(FUNCTIONS.some((f) => f.name === 'approval-api'))('is a public function URL of approval-api (the API checks HMAC signatures), known to the notifiers', () => {
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE', TargetFunctionArn: { 'Fn::GetAtt': [functionLogicalId(json, 'nhigov-approval-api'), 'Arn'] } });
    const withUrl = resourcesOfType(json, 'AWS::Lambda::Function')
      .filter(([, r]) => JSON.stringify(r.Properties?.['Environment']).includes('NHIGOV_APPROVAL_BASE_URL'))
      .map(([, r]) => r.Properties?.['FunctionName']);
    expect(withUrl).toContain('nhigov-request-approval');
    expect(withUrl).not.toContain('nhigov-approval-api');
    expect(json.Outputs?.['ApprovalUrl']).toBeDefined();
  });
});

function stateMachineOf(id: string): [string, NonNullable<(typeof json.Resources)[string]>] {
  const found = resourcesOfType(json, 'AWS::StepFunctions::StateMachine').find(([, r]) => r.Properties?.['StateMachineName'] === `nhigov-${id}`);
  if (!found) throw new Error(`no state machine ${id}`);
  return found;
}
