/** CDK context is validated before anything is built: a bad value fails synth with one line. */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { parseDeployConfig, type ContextKey } from '../../infra/lib/config.js';
import { TEST_POLICY_PUBLIC_KEY } from './support/stack.js';

const parse = (context: Partial<Record<ContextKey, unknown>>) => parseDeployConfig((key) => context[key]);

describe('deploy config', () => {
  it('has defaults that synthesize with no context at all', () => {
    expect(parse({})).toEqual({
      prefix: 'nhigov',
      eventBusName: 'nhigov-governance',
      eventProducerPrincipals: [],
      approverEmails: [],
      sesSandbox: true,
      governedGroupPath: '/',
      memberRoleNames: ['nhigov-member'],
      logRetention: RetentionDays.THREE_MONTHS,
      reconcileSchedule: 'cron(0 3 * * ? *)',
      finalizeSchedule: 'cron(30 3 * * ? *)',
      checkpointRetentionDays: 400,
      checkpointSchedule: 'rate(1 hour)',
      attestationSchedule: 'cron(0 9 1 1,4,7,10 ? *)',
      attestationSweepSchedule: 'rate(1 hour)',
    });
  });

  it('reads -c strings the way cdk.json values read', () => {
    const config = parse({ approverEmails: 'A@example.com, b@example.com', sesSandbox: 'false', logRetentionDays: '30' });
    expect(config.approverEmails).toEqual(['a@example.com', 'b@example.com']);
    expect(config.sesSandbox).toBe(false);
    expect(config.logRetention).toBe(RetentionDays.ONE_MONTH);
    expect(parse({ approverEmails: ['c@example.com'] }).approverEmails).toEqual(['c@example.com']);
    expect(parse({ memberRoleNames: 'nhigov-member, gov-reader' }).memberRoleNames).toEqual(['nhigov-member', 'gov-reader']);
  });

  it('takes the policy key inline (with \\n escapes) or from a file', () => {
    expect(parse({ policyPublicKey: TEST_POLICY_PUBLIC_KEY.replace(/\n/g, '\\n') }).policyPublicKey).toBe(TEST_POLICY_PUBLIC_KEY);
    const dir = mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'nhigov-key-'));
    writeFileSync(path.join(dir, 'policy.pub'), TEST_POLICY_PUBLIC_KEY);
    try {
      expect(parse({ policyPublicKeyFile: path.join(dir, 'policy.pub') }).policyPublicKey).toBe(TEST_POLICY_PUBLIC_KEY);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [{ sesSender: 'not-an-address' }, /sesSender/],
    [{ logRetentionDays: 42 }, /logRetentionDays/],
    [{ reconcileSchedule: '0 3 * * *' }, /reconcileSchedule: an EventBridge Scheduler expression/],
    [{ prefix: 'NHI_GOV' }, /prefix/],
    [{ governedGroupPath: 'governed' }, /governedGroupPath: an IAM path/],
    [{ slackWebhookSecretArn: 'https://hooks.slack.com/x' }, /slackWebhookSecretArn: a Secrets Manager secret ARN/],
    [{ policyPublicKey: 'hello' }, /policyPublicKey: not a PEM public key/],
    [{ policyPublicKey: TEST_POLICY_PUBLIC_KEY, policyPublicKeyFile: 'x.pub' }, /not both/],
    [{ eventBusName: 'default' }, /eventBusName: the governance bus is the stack's own/],
    [{ eventProducerPrincipals: '12345, arn:aws:iam::111122223333:role/x' }, /eventProducerPrincipals.0: an account id/],
    [{ eventProducerPrincipals: '*' }, /eventProducerPrincipals/],
    [{ oktaEventSourceName: 'aws.partner/onelogin.com/x' }, /oktaEventSourceName: an Okta partner event source name/],
  ] as const)('refuses %j', (context, message) => {
    expect(() => parse(context)).toThrow(message);
  });

  it('refuses a public key that is not Ed25519: every runtime would fail closed', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(() => parse({ policyPublicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString() })).toThrow(/an Ed25519 key is required, got ec/);
  });
});
