/**
 * The Outputs the CLI operates a stack through (infra/outputs.ts) are declared by the CDK stack:
 * a name the CLI reads that the stack does not declare fails here, not on a user's first command.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { OPERATOR_OUTPUT_NAMES, parseOperatorOutputs } from '../../infra/outputs.js';
import { buildStack, TEST_CONTEXT, TEST_POLICY_PUBLIC_KEY } from './support/stack.js';

const { json, template } = buildStack();
const declared = Object.keys(json.Outputs ?? {});

describe('stack outputs', () => {
  it('declares every output the CLI reads', () => {
    expect(OPERATOR_OUTPUT_NAMES.filter((name) => !declared.includes(name))).toEqual([]);
    expect(OPERATOR_OUTPUT_NAMES.length).toBeGreaterThanOrEqual(12);
  });

  it('gives the trusted policy key, the event bus and the link key secret their deployed values', () => {
    template.hasOutput('PolicyPublicKey', { Value: TEST_POLICY_PUBLIC_KEY });
    template.hasOutput('EventBusName', { Value: TEST_CONTEXT.eventBusName });
    template.hasOutput('ApprovalLinkKeySecretArn', { Value: { Ref: Match.stringLikeRegexp('LinkSigningKey') } });
    template.hasOutput('ChangeStateMachineArn', {});
    template.hasOutput('ApprovalUrl', { Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('ApprovalApi'), 'FunctionUrl'] } });
  });

  it('synthesizes without a key at synth: the PolicyPublicKey parameter, and the output gives its value', () => {
    const { policyPublicKey: _given, ...withoutKey } = TEST_CONTEXT;
    const unkeyed = buildStack({ context: withoutKey });
    unkeyed.template.hasParameter('PolicyPublicKey', { Type: 'String', AllowedPattern: Match.stringLikeRegexp('BEGIN PUBLIC KEY') });
    unkeyed.template.hasOutput('PolicyPublicKey', { Value: { Ref: 'PolicyPublicKey' } });
  });

  it('names each missing or malformed output when a stack is not ours', () => {
    const result = parseOperatorOutputs([{ OutputKey: 'EventBusName', OutputValue: 'default' }, { OutputKey: 'ApprovalUrl', OutputValue: 'not a url' }]);
    expect(result.ok).toBe(false);
    const error = result.ok ? '' : result.error;
    expect(error).toContain('ChangeStateMachineArn');
    expect(error).toContain('ApprovalUrl');
    expect(error).not.toContain('EventBusName');
  });
});
