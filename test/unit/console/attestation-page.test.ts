import { describe, expect, it } from 'vitest';
import type { CampaignStatus } from '../../../cli/lib/attestations.js';
import { renderAttestationPage } from '../../../console/pages/attestation.js';

const XSS = '<img src=x onerror=alert(1)>';
const NOW = new Date('2026-07-01T00:10:00.000Z');

const campaign: CampaignStatus = {
  campaignId: 'att-0123456789abcdef01234567',
  state: 'CLOSED',
  status: 'ESCALATED',
  policyVersion: 'v'.repeat(64),
  startedAt: '2026-07-01T00:00:00.000Z',
  answerBy: '2026-07-15T00:00:00.000Z',
  actBy: '2026-07-22T00:00:00.000Z',
  nhis: 3,
  answered: 2,
  unanswered: 1,
  ownerUnknown: 1,
  accounts: ['000000000000', '111111111111'],
  unreadableAccounts: [{ account: '222222222222', roleArn: 'arn:aws:iam::222222222222:role/nhigov-member', message: `AccessDenied ${XSS}` }],
  owners: [
    { owner: 'alice@example.com', manager: 'boss@example.com', asked: 2, answered: 2, kept: 1, released: 1, escalatedAt: null },
    { owner: 'carol@example.com', manager: 'boss@example.com', asked: 1, answered: 0, kept: 0, released: 0, escalatedAt: '2026-07-15T01:00:00.000Z' },
  ],
  items: [
    { nhi: 'svc-keep', type: 'user', account: '000000000000', owner: 'alice@example.com', answer: 'KEEP', answeredAt: '2026-07-01T00:05:00.000Z', outcome: 'KEPT', changeId: null },
    { nhi: XSS, type: 'user', account: '000000000000', owner: 'alice@example.com', answer: 'RELEASE', answeredAt: '2026-07-01T00:06:00.000Z', outcome: 'DISABLE_PLANNED', changeId: 'chg-aaaa' },
    { nhi: 'arn:aws:iam::111111111111:role/role-silent', type: 'role', account: '111111111111', owner: 'carol@example.com', answer: null, answeredAt: null, outcome: 'OWNER_UNKNOWN', changeId: 'chg-bbbb' },
  ],
  changes: [
    { changeId: 'chg-aaaa', reason: 'NOT_NEEDED', owner: 'alice@example.com', account: '000000000000', nhis: [XSS], started: true },
    { changeId: 'chg-bbbb', reason: 'NO_ANSWER', owner: 'carol@example.com', account: '111111111111', nhis: ['arn:aws:iam::111111111111:role/role-silent'], started: true },
  ],
};

describe('console attestation page', () => {
  it('shows who answered, who did not (and their escalation), and the changes it started, escaping names', () => {
    const page = renderAttestationPage({ campaign, campaigns: [{ campaignId: campaign.campaignId, status: 'ESCALATED', createdAt: campaign.startedAt }], now: NOW });
    expect(page.section).toBe('attestation');
    expect(page.body).not.toContain(XSS);
    expect(page.body).toContain('data-owner="carol@example.com" data-answered="none"');
    expect(page.body).toContain('data-owner="alice@example.com" data-answered="all"');
    expect(page.body).toContain('to boss@example.com');
    expect(page.body).toContain('data-nhi="arn:aws:iam::111111111111:role/role-silent" data-account="111111111111" data-answer="none" data-outcome="OWNER_UNKNOWN"');
    expect(page.body).toContain('href="/console/changes/chg-aaaa"');
    expect(page.body).toContain('no answer');
  });

  it('names the account of every NHI and of each change, and an account that could not be read', () => {
    const page = renderAttestationPage({ campaign, campaigns: [], now: NOW });
    expect(page.body).toContain('data-nhi="svc-keep" data-account="000000000000"');
    expect(page.body).toContain('in account <code>111111111111</code>');
    expect(page.body).toContain('across accounts <code>000000000000</code>, <code>111111111111</code>');
    expect(page.body).toMatch(/<span data-account="222222222222"><code class="reason">CONNECTOR_ACCESS_DENIED<\/code>: account <code>222222222222<\/code> was not read/);
    expect(page.body).not.toContain(XSS);
  });

  it('says how to open a campaign when there is none', () => {
    expect(renderAttestationPage({ campaign: null, campaigns: [], now: NOW }).body).toContain('nhigov attest start');
  });
});
