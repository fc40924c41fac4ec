/**
 * Real signals in: each provider's documented sample event, put on the bus of the local stack
 * with its real envelope (PutEvents, as the provider does), judged by reading IAM back.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GetRolePolicyCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForChange, type ShowDocument } from '../../cli/lib/changes.js';
import type { StackContext } from '../../cli/lib/context.js';
import { LOCAL_ACCOUNT_ID } from '../../local/aws-clients.js';
import { LOCAL_OKTA_EVENT_SOURCE } from '../../local/deploy.js';
import { SESSION_DENY_POLICY_NAME } from '../../lambdas/connectors/iam/session-revocation.js';
import { startTestStack, type TestStack } from '../support/local-stack.js';
import { createGovernedRole, createGovernedUser, eventFile, keyStatuses, ownerEmail, unique } from '../support/estate.js';
import { changeIdsOf, providerEvent, putProviderEvent } from '../support/signals.js';

const DAY_MS = 24 * 3600 * 1000;

describe('real signals: AWS Health, GuardDuty, Access Analyzer, Security Hub, Okta', () => {
  let stack: TestStack;
  let ctx: StackContext;
  let governanceBus: string;
  beforeAll(async () => {
    stack = await startTestStack();
    ctx = await stack.context();
    governanceBus = ctx.outputs.eventBusName;
  });
  afterAll(() => stack?.stop());

  async function settled(changeId: string, timeoutMs = 90_000): Promise<ShowDocument> {
    const { doc, settled: done } = await waitForChange(ctx, changeId, timeoutMs);
    if (!doc || !done) throw new Error(`change ${changeId} did not settle (${doc?.status ?? 'not recorded'})`);
    return doc;
  }

  const triggered = (doc: ShowDocument) => doc.evidence.find((e) => e.type === 'TRIGGERED');

  it('the stack bus is the dedicated governance bus, not the default one', () => {
    expect(governanceBus).toBe('nhigov-governance');
  });

  it('AWS Health AWS_RISK_CREDENTIALS_EXPOSED: each exposed key is traced to its user by id alone and contained (Inactive), one change per key', async () => {
    const user = await createGovernedUser(stack.direct, { owner: ownerEmail(), keys: 2 });
    const other = await createGovernedUser(stack.direct, { owner: ownerEmail(), keys: 1 });
    const [first, untouched] = user.keyIds as [string, string];
    const [second] = other.keyIds as [string];
    const event = providerEvent('health', { XXXXXXXXXXXXXXXXX: unique('E').toUpperCase(), ACCESS_KEY_ID_HERE: first }, (e) => {
      e.detail.affectedEntities = [{ entityValue: first }, { entityValue: second }];
    });
    await putProviderEvent(stack.clients, event, 'default');
    const changeIds = changeIdsOf(event);
    expect(changeIds).toHaveLength(2);
    const docs = await Promise.all(changeIds.map((id) => settled(id)));
    expect(await keyStatuses(stack.direct, user.userName)).toEqual({ [first]: 'Inactive', [untouched]: 'Active' });
    expect(await keyStatuses(stack.direct, other.userName)).toEqual({ [second]: 'Inactive' });
    for (const doc of docs) {
      // Critical is above the default floor (high): contained first, approval after the fact.
      expect(doc.status).toBe('AWAITING_APPROVAL');
      expect(doc.actions).toEqual([expect.objectContaining({ kind: 'iam.deactivateAccessKey', status: 'VERIFIED' })]);
      expect(triggered(doc)).toMatchObject({ actor: 'aws.health', data: { cause: { source: 'aws.health', type: 'AWS_RISK_CREDENTIALS_EXPOSED' } } });
      expect(doc.plan?.trigger.cause?.reference).toBe(event.detail.eventArn);
    }
  });

  it('GuardDuty on an IAM user key (severity 8 → high): the key is contained', async () => {
    const user = await createGovernedUser(stack.direct, { owner: ownerEmail(), keys: 1 });
    const [key] = user.keyIds as [string];
    const event = providerEvent('guardDuty', { '16afba5c5c43e07c9e3e5e2e544e95df': unique('gd'), ASIASZ4SI7REEEXAMPLE: key, GeneratedFindingUserName: user.userName }, (e) => {
      e.detail.resource = { resourceType: 'AccessKey', accessKeyDetails: { accessKeyId: key, principalId: 'AIDAEXAMPLEUSERID0001', userType: 'IAMUser', userName: user.userName } };
    });
    await putProviderEvent(stack.clients, event, 'default');
    const [changeId] = changeIdsOf(event) as [string];
    const doc = await settled(changeId);
    expect(await keyStatuses(stack.direct, user.userName)).toEqual({ [key]: 'Inactive' });
    expect(doc.plan?.trigger.detail).toMatchObject({ severity: 'high', accessKeyId: key });
  });

  it('GuardDuty InstanceCredentialExfiltration on temporary credentials (ASIA…, AssumedRole): the role\'s sessions are revoked', async () => {
    const roleName = await createGovernedRole(stack.direct, { owner: ownerEmail() });
    const event = providerEvent('guardDuty', { '16afba5c5c43e07c9e3e5e2e544e95df': unique('gd'), GeneratedFindingUserName: roleName });
    await putProviderEvent(stack.clients, event, 'default');
    const [changeId] = changeIdsOf(event) as [string];
    const doc = await settled(changeId);
    expect(doc.actions.map((a) => a.kind)).toEqual(['iam.putSessionRevocationDeny']);
    expect(doc.actions[0]?.status).toBe('VERIFIED');
    const policy = await stack.direct.iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: SESSION_DENY_POLICY_NAME }));
    expect(decodeURIComponent(policy.PolicyDocument ?? '')).toContain('aws:TokenIssueTime');
    expect(triggered(doc)?.data).toMatchObject({ cause: { subject: 'ASIASZ4SI7REEEXAMPLE' } });
  });

  it('GuardDuty below the contain-first floor (severity 5 → medium) on a prod key waits for approval, nothing written', async () => {
    const user = await createGovernedUser(stack.direct, { owner: ownerEmail(), env: 'prod', keys: 1 });
    const [key] = user.keyIds as [string];
    const event = providerEvent('guardDuty', { '16afba5c5c43e07c9e3e5e2e544e95df': unique('gd') }, (e) => {
      e.detail.severity = 5;
      e.detail.resource = { resourceType: 'AccessKey', accessKeyDetails: { accessKeyId: key, userType: 'IAMUser', userName: user.userName } };
    });
    await putProviderEvent(stack.clients, event, 'default');
    const doc = await settled(changeIdsOf(event)[0] ?? '');
    expect(doc.status).toBe('AWAITING_APPROVAL');
    expect(doc.approval).toMatchObject({ afterTheFact: false });
    expect(await keyStatuses(stack.direct, user.userName)).toEqual({ [key]: 'Active' });
  });

  it('Access Analyzer UnusedIAMUserAccessKey: the unused key is deactivated under the default policy', async () => {
    const user = await createGovernedUser(stack.direct, { owner: ownerEmail(), keys: 1 });
    const [key] = user.keyIds as [string];
    // Thresholds are evaluated as of the analysis: analyzed 100 days on, the new key is 100 days unused.
    const analyzedAt = new Date(Date.now() + 100 * DAY_MS).toISOString();
    const event = providerEvent('accessAnalyzer', { 'a5f1b2c3-4d5e-6f70-8192-a3b4c5d6e7f8': unique('aa'), '123456789012:user/example-user': `${LOCAL_ACCOUNT_ID}:user/${user.userName}` }, (e) => {
      e.detail.analyzedAt = analyzedAt;
    });
    await putProviderEvent(stack.clients, event, 'default');
    const doc = await settled(changeIdsOf(event)[0] ?? '');
    expect(doc.status).toBe('VERIFIED');
    expect(await keyStatuses(stack.direct, user.userName)).toEqual({ [key]: 'Inactive' });
    expect(doc.actions).toEqual([expect.objectContaining({ kind: 'iam.deactivateAccessKey', finding: 'KEY_UNUSED' })]);
    expect(doc.plan?.trigger.cause).toMatchObject({ source: 'aws.access-analyzer', type: 'UnusedIAMUserAccessKey' });
  });

  it('an archived Access Analyzer finding is ignored: no change', async () => {
    const user = await createGovernedUser(stack.direct, { owner: ownerEmail(), keys: 1 });
    const event = providerEvent('accessAnalyzer', { '123456789012:user/example-user': `${LOCAL_ACCOUNT_ID}:user/${user.userName}` }, (e) => {
      e.detail.status = 'ARCHIVED';
    });
    const result = stack.cli(['event', eventFile(stack.stateDir, event), '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ ignored: true, reason: expect.stringContaining('ARCHIVED') });
  });

  it('Security Hub FAILED IAM finding: a reconcile of its resource is planned, the finding recorded as the cause', async () => {
    const user = await createGovernedUser(stack.direct, { owner: ownerEmail(), keys: 1 });
    const arn = `arn:aws:iam::${LOCAL_ACCOUNT_ID}:user/${user.userName}`;
    const event = providerEvent('securityHub', { '9c2d1a6e-3b4f-4e5a-8c7d-1e2f3a4b5c6d': unique('sh'), 'arn:aws:iam::123456789012:user/example-user': arn });
    await putProviderEvent(stack.clients, event, 'default');
    const doc = await settled(changeIdsOf(event)[0] ?? '');
    expect(doc.trigger).toBe('Reconcile Requested');
    expect(doc.plan?.trigger.detail).toEqual({ scope: { nhi: arn } });
    expect(doc.plan?.trigger.cause).toMatchObject({ source: 'aws.securityhub', type: 'IAM.3', subject: arn });
    expect(doc.status).toBe('NO_CHANGES');
  });

  it('Okta user.lifecycle.deactivate on its partner bus: the person\'s NHIs are terminated', async () => {
    const owner = ownerEmail('leaver');
    const user = await createGovernedUser(stack.direct, { owner, keys: 1 });
    const [key] = user.keyIds as [string];
    const event = providerEvent('okta', { 'c0a8f1e2-fd9b-11ee-9d4a-5b1f3c7e2a90': unique('okta'), EMAIL_HERE: owner.toUpperCase() });
    expect(event.source).toBe(LOCAL_OKTA_EVENT_SOURCE);
    await putProviderEvent(stack.clients, event, LOCAL_OKTA_EVENT_SOURCE);
    const doc = await settled(changeIdsOf(event)[0] ?? '');
    expect(doc.trigger).toBe('Employee Terminated');
    expect(await keyStatuses(stack.direct, user.userName)).toEqual({ [key]: 'Inactive' });
    expect(doc.plan?.trigger.detail).toMatchObject({ email: owner, employeeId: '00u1daveEXAMPLE0x7' });
  });

  it('custom sources are routed only on the governance bus: on the default bus they start nothing', async () => {
    const owner = ownerEmail('stray');
    const user = await createGovernedUser(stack.direct, { owner, keys: 1 });
    const id = unique('stray');
    const event = { id, source: 'hr.system', 'detail-type': 'Employee Terminated', detail: { employeeId: 'E1', email: owner } };
    await putProviderEvent(stack.clients, { ...event, detail: { ...event.detail, eventId: id } }, 'default');
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(await ctx.changes.get(changeIdsOf(event)[0] ?? '')).toBeUndefined();
    expect(await keyStatuses(stack.direct, user.userName)).toEqual({ [user.keyIds[0] ?? '']: 'Active' });
  });

  it('nhigov event: another Health event type is ignored (exit 0); a reused id is refused (exit 2) naming the earlier change; the same content twice is one change', async () => {
    const other = providerEvent('health', {}, (e) => {
      e.detail.eventTypeCode = 'AWS_RISK_IAM_QUARANTINE';
    });
    const ignored = stack.cli(['event', eventFile(stack.stateDir, other)]);
    expect(ignored.code, ignored.stderr).toBe(0);
    expect(ignored.stdout).toContain('event ignored: AWS Health event AWS_RISK_IAM_QUARANTINE');

    const id = unique('reused');
    const first = { id, source: 'nhigov', 'detail-type': 'Reconcile Requested', detail: { scope: { owner: ownerEmail() } } };
    const started = stack.json<{ changeId: string }>(['event', eventFile(stack.stateDir, first)]);
    const again = stack.json<{ changeId: string }>(['event', eventFile(stack.stateDir, first)]);
    expect(again.changeId).toBe(started.changeId);
    const reused = stack.cli(['event', eventFile(stack.stateDir, { ...first, detail: { scope: { owner: ownerEmail() } } })]);
    expect(reused.code).toBe(2);
    expect(reused.stderr).toContain(`already used for different content by change ${started.changeId}`);

    // Straight on the bus (past the CLI's check): ingest refuses it on every delivery, so SQS dead-letters it.
    const firstHash = (await ctx.changes.get(started.changeId))?.contentHash;
    expect(firstHash).toMatch(/^[0-9a-f]{64}$/);
    const reusedOnBus = { ...first, detail: { scope: { owner: ownerEmail() }, eventId: id } };
    await putProviderEvent(stack.clients, reusedOnBus, governanceBus);
    const log = path.join(stack.stateDir, 'gateway.log');
    const deadline = Date.now() + 30_000;
    while (!readFileSync(log, 'utf8').includes(`"eventId":"${id}"`) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
    expect(readFileSync(log, 'utf8')).toMatch(new RegExp(`event refused: event id reused.*"earlierChangeId":"${started.changeId}"`));
    // The earlier change still holds the first content: the reuse was refused, not merged.
    expect((await ctx.changes.get(started.changeId))?.contentHash).toBe(firstHash);
  });
});
