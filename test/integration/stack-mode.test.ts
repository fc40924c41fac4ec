/**
 * Stack mode: the CLI operates a stack it knows only by name, as a user with a deployed stack
 * does. It runs from an empty folder with nothing but AWS_ENDPOINT_URL, NHIGOV_STACK, a region
 * and credentials in its environment: no state folder, no local settings. The local stack
 * registers itself in the emulator's CloudFormation as `cdk deploy` would.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY_FILE } from '../../local/stack.js';
import { runCli, startTestStack, type CliResult, type TestStack } from '../support/local-stack.js';
import { createGovernedUser, keyStatuses, ownerEmail, terminationEvent } from '../support/estate.js';
import { APPROVER, SECOPS, hasSessionDeny } from '../support/approvals.js';
import type { ShowDocument } from '../../cli/lib/changes.js';

describe('stack mode: every operator command against a stack found by name', () => {
  let stack: TestStack;
  let folder: string;
  let env: NodeJS.ProcessEnv;
  const cli = (args: readonly string[], extra: NodeJS.ProcessEnv = {}): CliResult => runCli({ ...env, ...extra }, args, undefined, folder);
  const json = <T>(args: readonly string[]): T => {
    const result = cli([...args, '--json']);
    if (result.code !== 0) throw new Error(`nhigov ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
    return JSON.parse(result.stdout) as T;
  };

  beforeAll(async () => {
    stack = await startTestStack();
    folder = mkdtempSync(path.join(os.tmpdir(), 'nhigov-operator-'));
    env = {
      PATH: process.env.PATH,
      HOME: folder,
      AWS_ENDPOINT_URL: stack.endpoint,
      NHIGOV_STACK: 'NhiGovernor',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'operator',
      AWS_SECRET_ACCESS_KEY: 'operator',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      NO_COLOR: '1',
    };
  });
  afterAll(() => {
    stack?.stop();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('a prod termination waits for approval, is approved (with the caller identity), reaches VERIFIED, read back in IAM; the evidence verifies', async () => {
    const owner = ownerEmail('leaver');
    const user = await createGovernedUser(stack.direct, { owner, env: 'prod', keys: 2 });
    const eventPath = path.join(folder, 'termination.json');
    writeFileSync(eventPath, JSON.stringify(terminationEvent(owner)));

    const dryRun = json<{ actions: Array<{ target: { id: string } }> }>(['plan', '--event', eventPath]);
    expect(dryRun.actions.map((a) => a.target.id)).toEqual(expect.arrayContaining(user.keyIds));

    const { changeId, executionArn } = json<{ changeId: string; executionArn: string }>(['event', eventPath]);
    expect(executionArn).toContain(`:execution:nhigov-change:${changeId}`);
    const waiting = json<ShowDocument>(['wait', changeId, '--timeout', '90']);
    expect(waiting.status).toBe('AWAITING_APPROVAL');
    expect(Object.values(await keyStatuses(stack.direct, user.userName))).toEqual(['Active', 'Active']);
    expect(json<Array<{ changeId: string; status: string }>>(['changes'])).toContainEqual(expect.objectContaining({ changeId, status: 'AWAITING_APPROVAL' }));

    const approved = cli(['approve', changeId, '--as', APPROVER, '--comment', 'stack mode']);
    expect(approved.code, approved.stderr).toBe(0);
    const done = json<ShowDocument>(['wait', changeId, '--timeout', '90']);
    expect(done.status).toBe('VERIFIED');
    expect(Object.values(await keyStatuses(stack.direct, user.userName))).toEqual(['Inactive', 'Inactive']);
    expect(await hasSessionDeny(stack, user.userName)).toBe(true);
    const decision = done.evidence.find((e) => e.type === 'APPROVED');
    expect(decision).toMatchObject({ actor: APPROVER, data: { channel: 'cli', comment: 'stack mode', callerIdentity: expect.stringMatching(/^arn:aws:(iam|sts)::\d{12}:/) } });
    expect(done.approval).toMatchObject({ decidedBy: APPROVER, callerIdentity: expect.stringMatching(/^arn:aws:/) });

    expect(json<{ ok: boolean; changes: number }>(['evidence', 'verify', changeId])).toMatchObject({ ok: true, changes: 1 });
    const lines = cli(['evidence', changeId, '--format', 'jsonl']).stdout.trim().split('\n');
    expect(lines.length).toBe(done.evidence.length);
    expect(json<{ events: unknown[] }>(['evidence', '--nhi', user.userName]).events.length).toBeGreaterThan(0);
    expect(json<{ events: Array<{ changeId: string }> }>(['evidence', '--from', new Date(Date.now() - 600_000).toISOString()]).events.map((e) => e.changeId)).toContain(changeId);
    expect(cli(['evidence', changeId, '--format', 'csv']).stdout.split('\n').length).toBeGreaterThan(done.evidence.length);
    expect(cli(['evidence', changeId, '--format', 'html']).stdout).toContain(changeId);
    expect(json<ShowDocument>(['show', changeId])).toMatchObject({ changeId, status: 'VERIFIED' });
    expect(json<{ ok: boolean }>(['evidence', 'verify']).ok).toBe(true);

    // Undo it, through the rollback workflow, and approve the rollback as someone else.
    const rollback = json<{ changeId: string }>(['rollback', changeId, '--as', SECOPS, '--reason', 'wrong person']);
    expect(json<ShowDocument>(['wait', rollback.changeId, '--timeout', '90']).status).toBe('AWAITING_APPROVAL');
    expect(cli(['approve', rollback.changeId, '--as', APPROVER]).code).toBe(0);
    expect(json<ShowDocument>(['wait', rollback.changeId, '--timeout', '90']).status).toBe('ROLLED_BACK');
    expect(Object.values(await keyStatuses(stack.direct, user.userName))).toEqual(['Active', 'Active']);

    const finalize = json<{ changeId: string }>(['finalize', '--as-of', '2099-01-01T00:00:00Z']);
    expect(['VERIFIED', 'NO_CHANGES']).toContain(json<ShowDocument>(['wait', finalize.changeId, '--timeout', '90']).status);
  });

  it('activates a newly signed policy with the trusted key from the stack, and reports it in policy status', () => {
    const policyFile = path.join(folder, 'my-policy.yaml');
    writeFileSync(policyFile, `${readFileSync(DEFAULT_POLICY_FILE, 'utf8')}\n# stack-mode revision\n`);
    const keyFile = path.join(folder, 'ops.key');
    copyFileSync(path.join(stack.stateDir, 'policy.key'), keyFile);
    const signed = json<{ version: string }>(['policy', 'sign', policyFile, '--key', keyFile]);
    expect(json<{ valid: boolean; trustedKeyFile: string }>(['policy', 'verify', policyFile])).toMatchObject({ valid: true, trustedKeyFile: expect.stringContaining('NhiGovernor') });
    const activated = json<{ activated: boolean; version: string; activatedBy: string }>(['policy', 'activate', policyFile, '--as', 'ops@example.com']);
    expect(activated).toMatchObject({ activated: true, version: signed.version, activatedBy: 'ops@example.com' });
    const status = json<{ active: { version: string; valid: boolean; activatedBy: string } }>(['policy', 'status']);
    expect(status.active).toMatchObject({ version: signed.version, valid: true, activatedBy: 'ops@example.com' });
  });

  it('names the stack, region and account in one line when the stack does not exist (exit 2)', () => {
    const missing = cli(['changes'], { NHIGOV_STACK: 'NoSuchStack' });
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/NoSuchStack.*us-east-1.*123456789012/);
    const flag = cli(['--stack', 'OtherStack', 'changes']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('OtherStack');
  });

  it('refuses the emulator-only commands in stack mode (exit 2, one line)', () => {
    for (const args of [['stats'], ['fault', 'list'], ['local', 'status'], ['demo']]) {
      const refused = cli(args);
      expect(refused.code, args.join(' ')).toBe(2);
      expect(refused.stderr).toMatch(/only with the embedded local stack/);
    }
  });

  it('finds the local stack by name from the emulator without the stack name in the environment', () => {
    expect(readFileSync(path.join(stack.stateDir, 'connection.json'), 'utf8')).toContain('NhiGovernor');
    expect(stack.json<Array<{ changeId: string }>>(['changes']).length).toBeGreaterThan(0);
  });
});
