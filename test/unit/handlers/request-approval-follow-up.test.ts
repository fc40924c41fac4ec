import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Logger } from '@aws-lambda-powertools/logger';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { describe, expect, it } from 'vitest';
import type { EvidenceEvent } from '../../../lambdas/domain/evidence.js';
import { withFollowUp } from '../../../lambdas/domain/intent.js';
import type { Plan } from '../../../lambdas/domain/plan-model.js';
import { signPolicy, verifySignedPolicy } from '../../../lambdas/domain/policy-signature.js';
import { requestApprovalCore, type ApprovalRequestRuntime, type ApprovalRequestServices } from '../../../lambdas/handlers/request-approval.js';
import type { ApprovalRecord } from '../../../lambdas/stores/approval-store.js';
import { snapshotOf, user } from '../../fixtures/estate-builder.js';
import { events, planFor } from '../../fixtures/planning.js';
import { InMemoryRuntime } from './in-memory-runtime.js';

const CAROL = 'carol@example.com';
const CHANGE = 'chg-test';
const recent = { createdAt: '2026-06-01T00:00:00.000Z', lastUsedAt: '2026-06-30T00:00:00.000Z' };
const NOW = new Date('2026-07-01T12:00:00.000Z');

function signedDefaultPolicy() {
  const text = readFileSync(fileURLToPath(new URL('../../../policy/default-policy.yaml', import.meta.url)), 'utf8');
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const signature = signPolicy(text, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), new Date('2026-01-01T00:00:00.000Z'));
  return verifySignedPolicy(text, JSON.stringify(signature), publicKey.export({ type: 'spki', format: 'pem' }).toString());
}

/** A dev termination (no approval needed), then a grown plan whose new key needs an approval of its own. */
async function setUp() {
  const mem = new InMemoryRuntime(signedDefaultPolicy());
  const estate = snapshotOf({ users: [user('svc-dev', { owner: CAROL, keys: [{ accessKeyId: 'AKIADEV000000001', ...recent }, { accessKeyId: 'AKIADEVNEW000001', ...recent }] })] });
  const full = planFor(events.terminated(CAROL), estate);
  const newKey = full.actions.filter((a) => a.target.id === 'AKIADEVNEW000001');
  const first: Plan = { ...full, actions: full.actions.filter((a) => a.target.id !== 'AKIADEVNEW000001').map((a, i) => ({ ...a, actionId: `a${i + 1}` })) };
  const of = await mem.plans.put(first);
  const approval = { ...first.approval, required: true, afterTheFact: false, reasons: [`env=prod on svc-dev (a${first.actions.length + 1} iam.deactivateAccessKey)`], approvers: ['secops@example.com'], owners: [CAROL], rules: [{ name: 'default', group: 'iam-approvers', minApprovers: 1, approvers: ['secops@example.com'], reasons: ['env=prod on svc-dev'] }] };
  const grown = withFollowUp(first, newKey, { round: 1, of, approval });
  const planHash = await mem.plans.put(grown);
  await mem.changes.create({ changeId: CHANGE, kind: 'change', status: 'APPLYING', trigger: 'Employee Terminated', eventId: 'evt-term', createdAt: '2026-07-01T00:00:00.000Z', reasonCodes: [] });
  const created: ApprovalRecord[] = [];
  const rt: ApprovalRequestRuntime = {
    loadPlan: (hash) => mem.loadPlan(hash),
    loadPolicy: () => mem.loadPolicy(),
    logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
    changes: { get: (id) => mem.changes.get(id), update: (id, fields) => mem.changes.update(id, fields) },
    evidence: {
      record: async (draft): Promise<EvidenceEvent> => {
        await mem.evidence.append(draft);
        const last = mem.chain(draft.changeId).at(-1);
        if (!last) throw new Error('recorded');
        return last;
      },
    },
  };
  const svc: ApprovalRequestServices = {
    approvals: { create: async (record) => void created.push(record) },
    linkKey: async () => Buffer.alloc(32),
    slackWebhookUrl: async () => null,
    ses: new SESv2Client({ region: 'us-east-1' }),
    sesSender: null,
    baseUrl: null,
    now: () => NOW,
  };
  return { mem, rt, svc, created, first, grown, of, planHash, approval };
}

const request = { changeId: CHANGE, taskToken: 'token-1', afterTheFact: false, timeoutSeconds: 3600 };

describe('request-approval: a follow-up is asked as the stored plan says', () => {
  it('takes the round, the earlier plan, the new actions and who must approve them from the plan loaded by its hash', async () => {
    const { mem, rt, svc, created, grown, of, planHash, approval } = await setUp();
    const newId = grown.actions.at(-1)?.actionId ?? '';
    await requestApprovalCore(rt, svc, { ...request, planHash, followUp: true });
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ planHash, group: approval.group, approvers: ['secops@example.com'], owners: [CAROL], followUp: { round: 1, of, actionIds: [newId], reasons: approval.reasons } });
    expect(created[0]?.rules?.map((r) => [r.name, r.minApprovers])).toEqual([['default', 1]]);
    const requested = mem.chain(CHANGE).find((e) => e.type === 'APPROVAL_REQUESTED');
    expect(requested?.data).toMatchObject({ planHash, followUp: { round: 1, of, actionIds: [newId] }, reasons: approval.reasons, approvers: ['secops@example.com'], afterTheFact: false });
    expect((await mem.changes.get(CHANGE))?.approval).toMatchObject({ status: 'PENDING', followUp: { round: 1, planHash, of, actionIds: [newId] } });
  });

  it('refuses a follow-up request on a plan that carries none, and one asked after the fact', async () => {
    const { rt, svc, created, of, planHash } = await setUp();
    await expect(requestApprovalCore(rt, svc, { ...request, planHash: of, followUp: true })).rejects.toThrow(/asks for no follow-up approval/);
    await expect(requestApprovalCore(rt, svc, { ...request, planHash, afterTheFact: true, followUp: true })).rejects.toThrow(/before its writes, not after the fact/);
    expect(created).toHaveLength(0);
  });

  it('a grown plan asked for its after-the-fact approval is the whole plan\'s request, under the plan\'s own approval', async () => {
    const { mem, rt, svc, created, grown, planHash } = await setUp();
    await requestApprovalCore(rt, svc, { ...request, planHash, afterTheFact: true });
    expect(created[0]?.followUp).toBeUndefined();
    expect(created[0]?.approvers).toEqual([...grown.approval.approvers]);
    expect(mem.chain(CHANGE).find((e) => e.type === 'APPROVAL_REQUESTED')?.data.followUp).toBeUndefined();
  });
});
