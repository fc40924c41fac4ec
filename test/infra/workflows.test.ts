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
import { providerEvent } from '../support/signals.js';
import { buildStack, functionLogicalId, resourcesOfType, TEST_CONTEXT } from './support/stack.js';

const { template, json } = buildStack();

/** One sample event per event type of docs/events.md, and events no rule may take. */
const SAMPLES = {
  'Employee Terminated': { source: 'hr.system', 'detail-type': 'Employee Terminated', detail: { employeeId: 'E1001', email: 'alice@example.com', managerEmail: 'bob@example.com' } },
  'Owner Changed': { source: 'hr.system', 'detail-type': 'Owner Changed', detail: { nhi: 'svc-billing', fromEmail: 'alice@example.com', toEmail: 'bob@example.com' } },
  'Credential Exposed': { source: 'security.findings', 'detail-type': 'Credential Exposed', detail: { nhi: 'svc-ci', accessKeyId: 'AKIAIOSFODNN7EXAMPLE', severity: 'high' } },
  'Reconcile Requested': { source: 'nhigov', 'detail-type': 'Reconcile Requested', detail: { scope: 'all' } },
  // The providers' documented samples (test/fixtures/events), with their real envelopes.
  'AWS Health Event': providerEvent('health', { ACCESS_KEY_ID_HERE: 'AKIAIOSFODNN7EXAMPLE' }),
  'GuardDuty Finding': providerEvent('guardDuty'),
  'Unused Access Finding for IAM entities': providerEvent('accessAnalyzer'),
  'Security Hub Findings - Imported': providerEvent('securityHub'),
  'AWS API Call via CloudTrail': providerEvent('cloudTrail'),
  SystemLog: providerEvent('okta', { 'aws.partner/okta.com/nhigov-local/system-log': String(TEST_CONTEXT.oktaEventSourceName) }),
} as const;
const FOREIGN_EVENTS = [
  { source: 'hr.system', 'detail-type': 'Employee Hired', detail: { employeeId: 'E2', email: 'carol@example.com' } },
  { source: 'security.findings', 'detail-type': 'Employee Terminated', detail: { employeeId: 'E1001', email: 'alice@example.com' } },
  { source: 'nhigov', 'detail-type': 'Credential Exposed', detail: { nhi: 'svc-ci', severity: 'high' } },
  { source: 'aws.iam', 'detail-type': 'AWS API Call via CloudTrail', detail: { eventName: 'UpdateAccessKey' } },
  { source: 'hr.system', 'detail-type': 'AWS Health Event', detail: { service: 'RISK', eventTypeCode: 'AWS_RISK_CREDENTIALS_EXPOSED' } },
  { source: 'aws.health', 'detail-type': 'AWS Health Event', detail: { service: 'EC2', eventTypeCode: 'AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED' } },
  { source: 'aws.guardduty', 'detail-type': 'GuardDuty Finding', detail: { type: 'Recon:EC2/PortProbeUnprotectedPort', resource: { resourceType: 'Instance' } } },
  { source: 'aws.securityhub', 'detail-type': 'Security Hub Findings - Imported', detail: { findings: [{ Resources: [{ Type: 'AwsS3Bucket', Id: 'arn:aws:s3:::b' }] }] } },
  { source: 'aws.partner/okta.com/example-org/nhigov', 'detail-type': 'SystemLog', detail: { eventType: 'user.session.start' } },
  { source: 'aws.partner/onelogin.com/x', 'detail-type': 'SystemLog', detail: { eventType: 'user.lifecycle.deactivate' } },
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

  const governanceBus = resourcesOfType(json, 'AWS::Events::EventBus');
  const busOf = (definition: (typeof EVENT_RULES)[number]) => rules.find(([id]) => id.startsWith(`Events${definition.id}Rule`))?.[1].Properties?.['EventBusName'];

  it('has one rule per event type and signal, each on its bus: custom sources on the governance bus, AWS services on the default bus, Okta on its partner bus', () => {
    expect(rules).toHaveLength(EVENT_RULES.length);
    expect(governanceBus).toEqual([[expect.stringMatching(/^EventBusesGovernance/), expect.objectContaining({ Properties: expect.objectContaining({ Name: 'governance' }) })]]);
    const expected = { governance: { Ref: governanceBus[0]?.[0] }, default: 'default', okta: TEST_CONTEXT.oktaEventSourceName };
    for (const definition of EVENT_RULES) expect(busOf(definition), definition.id).toEqual(expected[definition.bus]);
    expect(EVENT_RULES.filter((r) => r.custom).map((r) => r.bus)).toEqual(['governance', 'governance', 'governance', 'governance']);
    expect(EVENT_RULES.filter((r) => !r.custom && r.bus === 'governance')).toEqual([]);
    for (const [, rule] of rules) {
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
    // The ingest queue and its DLQ, the evidence queue and its DLQ.
    expect(policies).toHaveLength(4);
    for (const policy of policies) expect(policy).toContain('"aws:SecureTransport":"false"');
  });

  it('hands evidence to its one writer through a FIFO queue (one group per change) in batches that report item failures', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: functionLogicalId(json, 'nhigov-evidence-writer') },
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EvidenceQueue'), 'Arn'] },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const writer = FUNCTIONS.find((fn) => fn.name === 'evidence-writer');
    template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      ContentBasedDeduplication: false,
      VisibilityTimeout: (writer?.timeoutSeconds ?? 0) * 6,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EvidenceDeadLetterQueue'), 'Arn'] }, maxReceiveCount: 10 },
    });
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
    expect(target.Arn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^EventBusesGovernance/), 'Arn'] });
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

describe('the governance bus', () => {
  const built = { template, json };
  const policyOf = (stack: Pick<ReturnType<typeof buildStack>, 'json'>) => resourcesOfType(stack.json, 'AWS::Events::EventBusPolicy').map(([, p]) => p.Properties?.['Statement'] as Record<string, unknown>);

  it('only the stack\'s own account may put events on it by default', () => {
    expect(policyOf(built)).toEqual([
      {
        Sid: 'cdk-AllowedProducersPutEvents',
        Effect: 'Allow',
        Action: 'events:PutEvents',
        Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root']] } },
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^EventBusesGovernance/), 'Arn'] },
      },
    ]);
  });

  it('names the producers of eventProducerPrincipals (accounts and role ARNs), and defaults its name to PREFIX-governance; no Okta rule unless connected', () => {
    const role = 'arn:aws:iam::111122223333:role/hr-exporter';
    const other = buildStack({ context: { ...TEST_CONTEXT, eventBusName: undefined, oktaEventSourceName: undefined, eventProducerPrincipals: `444455556666, ${role}` } });
    const [statement] = policyOf(other);
    expect(statement?.['Principal']).toEqual({ AWS: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::444455556666:root']] }, role] });
    other.template.hasResourceProperties('AWS::Events::EventBus', { Name: 'nhigov-governance' });
    other.template.hasOutput('EventBusName', { Value: 'nhigov-governance' });
    expect(resourcesOfType(other.json, 'AWS::Events::Rule')).toHaveLength(EVENT_RULES.filter((r) => r.bus !== 'okta').length);
  });
});
