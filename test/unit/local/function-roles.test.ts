import { AssumeRoleCommand, type AssumeRoleCommandOutput } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { FunctionSessions } from '../../../local/gateway/function-roles.js';

const ROLES = new Map([
  ['nhigov-plan', { arn: 'arn:aws:iam::123456789012:role/nhigov-plan', id: 'AROAPLAN000000000001' }],
  ['nhigov-complete', { arn: 'arn:aws:iam::123456789012:role/nhigov-complete', id: 'AROACOMPLETE00000001' }],
]);

/** An STS that hands out numbered sessions valid for an hour of `now`, and counts them. */
function issuer(now: () => number) {
  const taken: Array<{ roleArn: string; sessionName: string }> = [];
  return {
    taken,
    send(command: AssumeRoleCommand): Promise<AssumeRoleCommandOutput> {
      const { RoleArn = '', RoleSessionName = '' } = command.input;
      taken.push({ roleArn: RoleArn, sessionName: RoleSessionName });
      const n = taken.length;
      const roleId = [...ROLES.values()].find((r) => r.arn === RoleArn)?.id ?? 'AROAUNKNOWN';
      return Promise.resolve({
        $metadata: {},
        Credentials: { AccessKeyId: `ASIA${n}`, SecretAccessKey: `secret-${n}`, SessionToken: `token-${n}`, Expiration: new Date(now() + 3_600_000) },
        AssumedRoleUser: { AssumedRoleId: `${roleId}:${RoleSessionName}`, Arn: `arn:aws:sts::123456789012:assumed-role/${RoleArn.split('/').pop() ?? ''}/${RoleSessionName}` },
      });
    },
  };
}

describe("each hosted function's own role session", () => {
  it('is taken once per function (the session named as the function), shared by concurrent calls, and kept apart from other functions', async () => {
    const now = 1_000_000;
    const sts = issuer(() => now);
    const sessions = new FunctionSessions(sts, ROLES, () => now);
    const [a, b, c] = await Promise.all([sessions.sessionOf('nhigov-plan'), sessions.sessionOf('nhigov-plan'), sessions.sessionOf('nhigov-complete')]);
    expect(sts.taken).toEqual([
      { roleArn: 'arn:aws:iam::123456789012:role/nhigov-plan', sessionName: 'nhigov-plan' },
      { roleArn: 'arn:aws:iam::123456789012:role/nhigov-complete', sessionName: 'nhigov-complete' },
    ]);
    expect(a).toBe(b);
    expect(a).toMatchObject({ accessKeyId: 'ASIA1', roleId: 'AROAPLAN000000000001', assumedRoleId: 'AROAPLAN000000000001:nhigov-plan' });
    expect(c).toMatchObject({ accessKeyId: 'ASIA2', assumedRoleId: 'AROACOMPLETE00000001:nhigov-complete' });
  });

  it('is taken again five minutes before it expires, not before', async () => {
    let now = 1_000_000;
    const sts = issuer(() => now);
    const sessions = new FunctionSessions(sts, ROLES, () => now);
    const first = await sessions.sessionOf('nhigov-plan');
    now += 54 * 60_000;
    expect(await sessions.sessionOf('nhigov-plan')).toBe(first);
    now += 2 * 60_000;
    expect((await sessions.sessionOf('nhigov-plan')).accessKeyId).toBe('ASIA2');
  });

  it('refuses a function it has no role for', async () => {
    const sessions = new FunctionSessions(issuer(() => 0), ROLES);
    expect(sessions.has('nhigov-other')).toBe(false);
    await expect(sessions.sessionOf('nhigov-other')).rejects.toThrow(/no local role for function nhigov-other/);
  });
});
