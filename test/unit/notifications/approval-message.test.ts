import { describe, expect, it } from 'vitest';
import type { FollowUpScope } from '../../../lambdas/domain/approval.js';
import { quorumOf } from '../../../lambdas/domain/approval-rules.js';
import { renderApprovalPage } from '../../../lambdas/handlers/approval-page.js';
import { approvalEmail, approvalSlackAnnouncement, approvalSubject, type ApprovalRequestView } from '../../../lambdas/notifications/approval-message.js';
import { snapshotOf, user } from '../../fixtures/estate-builder.js';
import { events, planFor } from '../../fixtures/planning.js';

const recent = { createdAt: '2026-06-01T00:00:00.000Z', lastUsedAt: '2026-06-30T00:00:00.000Z' };
const plan = planFor(events.terminated('carol@example.com'), snapshotOf({ users: [user('svc-dev', { owner: 'carol@example.com', keys: [{ accessKeyId: 'AKIAFIRST0000001', ...recent }, { accessKeyId: 'AKIALATER0000001', ...recent }] })] }));
const later = plan.actions.find((a) => a.target.id === 'AKIALATER0000001');
const followUp: FollowUpScope = { round: 1, of: 'f'.repeat(64), actionIds: [later?.actionId ?? ''], reasons: ['env=prod on svc-dev'] };
const quorum = quorumOf([{ name: 'default', group: 'iam-approvers', minApprovers: 1, approvers: ['approver@example.com'], reasons: [] }], [], ['approver@example.com']);
const view: ApprovalRequestView = { plan, afterTheFact: false, expiresAt: '2026-07-02T00:00:00.000Z', quorum, followUp };

describe('a follow-up approval request: the new actions alone, as a follow-up of the earlier decision', () => {
  it('the email says so and lists only the follow-up\'s actions and reasons', () => {
    const mail = approvalEmail(view, { approver: 'approver@example.com', url: 'https://approvals.example/approvals/x' });
    expect(approvalSubject(view)).toBe(`[nhi-governor] Follow-up approval needed (new work after an earlier decision): Employee Terminated: svc-dev (${plan.changeId})`);
    for (const body of [mail.text, mail.html]) {
      expect(body).toContain('Follow-up of an earlier decision');
      expect(body).toContain('ffffffffffff');
      expect(body).toContain('AKIALATER0000001');
      expect(body).not.toContain('AKIAFIRST0000001');
      expect(body).not.toContain('iam.putSessionRevocationDeny');
      expect(body).toContain('env=prod on svc-dev');
    }
  });

  it('the Slack announcement and the page list only the follow-up\'s actions', () => {
    const slack = JSON.stringify(approvalSlackAnnouncement(view, ['approver@example.com'], []));
    expect(slack).toContain('AKIALATER0000001');
    expect(slack).not.toContain('AKIAFIRST0000001');
    const page = renderApprovalPage({ plan, approvalId: 'x'.repeat(24), link: { approvalId: 'x'.repeat(24), approver: 'approver@example.com', exp: 1, channel: 'email', sig: 's' }, afterTheFact: false, expiresAt: view.expiresAt, refusal: null, followUp });
    expect(page).toContain('Approve follow-up of a change');
    expect(page).toContain('AKIALATER0000001');
    expect(page).not.toContain('AKIAFIRST0000001');
  });

  it('without a follow-up, the whole plan as before', () => {
    const { followUp: _none, ...whole } = view;
    const mail = approvalEmail(whole, { approver: 'approver@example.com', url: 'https://approvals.example/approvals/x' });
    expect(mail.subject).toContain('Approval needed');
    expect(mail.text).toContain('AKIAFIRST0000001');
    expect(mail.text).toContain('AKIALATER0000001');
    expect(mail.text).not.toContain('Follow-up');
  });
});
