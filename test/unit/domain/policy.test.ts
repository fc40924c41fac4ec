import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { activeExemption, exemptionStates, parsePolicy, policyVersion } from '../../../lambdas/domain/policy.js';
import { AppError } from '../../../lambdas/domain/reasons.js';

const POLICY = readFileSync(path.resolve(__dirname, '../../../policy/default-policy.yaml'), 'utf8');

function invalid(text: string): { message: string; issues: string[] } {
  try {
    parsePolicy(text);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).reasonCode).toBe('POLICY_INVALID');
    return { message: (error as AppError).message, issues: ((error as AppError).details?.issues as string[]) ?? [] };
  }
  throw new Error('expected POLICY_INVALID');
}

const withExemptions = (yaml: string) => POLICY.replace('exemptions: []', `exemptions:\n${yaml}`);

describe('governance policy schema', () => {
  it('parses the default policy (docs/policy.md)', () => {
    const policy = parsePolicy(POLICY);
    expect(policy.approval.groups['iam-approvers']).toEqual(['approver@example.com', 'secops@example.com']);
    expect(policy.triggers.employeeTerminated.users).toEqual(['deactivateKeys', 'revokeSessions']);
    expect(policy.thresholds).toEqual({ inactivityDays: 90, maxKeyAgeDays: 90, secretRotationDays: 90, finalizeGraceDays: 30 });
    expect(policy.apply.maxConcurrency).toBe(10);
    expect(policy.failureHandling).toEqual({ revocation: 'escalate', rotation: 'rollback', verifyTimeoutSeconds: 60 });
  });

  it('every example in policy/ is a valid policy', () => {
    const dir = path.resolve(__dirname, '../../../policy');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(files).toContain('default-policy.yaml');
    for (const file of files) expect(() => parsePolicy(readFileSync(path.join(dir, file), 'utf8')), file).not.toThrow();
  });

  it('names every problem as path: message', () => {
    const { message, issues } = invalid(
      POLICY.replace('inactivityDays: 90', 'inactivityDays: ninety').replace('users: [deactivateKeys, revokeSessions]', 'users: [deactivateKeys, burnItDown]').replace('name: default', 'name: default\ncolour: blue'),
    );
    expect(issues).toEqual([
      'thresholds.inactivityDays: Invalid input: expected number, received string',
      expect.stringMatching(/^triggers\.employeeTerminated\.users\.1: Invalid option: expected one of "deactivateKeys"\|"revokeSessions"$/),
      '(root): Unrecognized key: "colour"',
    ]);
    expect(message).toBe(`policy is invalid: ${issues.join('; ')}`);
  });

  it('explains YAML errors, an empty file and an undefined approval group', () => {
    expect(invalid('a: [').message).toMatch(/^policy is not valid YAML: .*line 1/);
    expect(invalid('').message).toBe('policy is empty');
    expect(invalid(POLICY.replace('timeoutSeconds: 86400', 'timeoutSeconds: 86400\n  timeoutSeconds: 60')).message).toMatch(/Map keys must be unique/);
    expect(invalid(POLICY.replace('group: iam-approvers', 'group: nobody')).issues).toEqual(['approval.group: "nobody" is not defined in approval.groups']);
  });

  it('requires every exemption field: NHI, reason, ticket, approver email, expiry with offset', () => {
    const { issues } = invalid(withExemptions('  - nhi: svc-a\n    reason: ""\n    approver: not-an-email\n    expiresAt: "2030-01-01"\n'));
    expect(issues).toEqual([
      'exemptions.0.reason: Too small: expected string to have >=1 characters',
      'exemptions.0.ticket: Invalid input: expected string, received undefined',
      'exemptions.0.approver: Invalid email address',
      'exemptions.0.expiresAt: Invalid ISO datetime',
    ]);
  });

  it('the version is the content hash: independent of comments and key order, changed by any value', () => {
    const base = policyVersion(parsePolicy(POLICY));
    expect(policyVersion(parsePolicy(`# a comment\n${POLICY}`))).toBe(base);
    expect(policyVersion(parsePolicy(POLICY.replace('inactivityDays: 90', 'inactivityDays: 91')))).not.toBe(base);
  });
});

describe('exemptions expire by themselves', () => {
  const policy = parsePolicy(
    withExemptions(
      [
        '  - nhi: svc-legacy\n    reason: vendor migration\n    ticket: CHG-1\n    approver: CISO@example.com\n    expiresAt: "2025-06-01T00:00:00Z"',
        '  - nhi: arn:aws:iam::123456789012:role/batch\n    reason: quarter close\n    ticket: CHG-2\n    approver: ciso@example.com\n    expiresAt: "2025-04-01T00:00:00+02:00"',
      ].join('\n') + '\n',
    ),
  );
  const legacy = { name: 'svc-legacy', arn: 'arn:aws:iam::123456789012:user/svc-legacy' };
  const batch = { name: 'batch', arn: 'arn:aws:iam::123456789012:role/batch' };

  it('applies before expiry (by name or ARN), never at or after it', () => {
    expect(activeExemption(policy, legacy, new Date('2025-05-31T23:59:59Z'))?.ticket).toBe('CHG-1');
    expect(activeExemption(policy, legacy, new Date('2025-06-01T00:00:00Z'))).toBeNull();
    expect(activeExemption(policy, batch, new Date('2025-03-31T21:59:59Z'))?.ticket).toBe('CHG-2');
    expect(activeExemption(policy, batch, new Date('2025-03-31T22:00:00Z'))).toBeNull();
    expect(activeExemption(policy, { name: 'other', arn: 'arn:other' }, new Date('2025-01-01T00:00:00Z'))).toBeNull();
    expect(policy.exemptions[0]?.approver).toBe('ciso@example.com');
  });

  it('reports which exemptions are in force', () => {
    expect(exemptionStates(policy, new Date('2025-05-01T00:00:00Z')).map((e) => [e.ticket, e.inForce])).toEqual([
      ['CHG-1', true],
      ['CHG-2', false],
    ]);
  });
});
