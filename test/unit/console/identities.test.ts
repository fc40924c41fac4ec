import { describe, expect, it } from 'vitest';
import { accountOf, identityRows, reconcileAllEvent, type IdentitiesView } from '../../../console/identities.js';
import { layout, SECTIONS } from '../../../console/html.js';
import { renderIdentitiesPage } from '../../../console/pages/identities.js';
import type { Plan, PlanAction } from '../../../lambdas/domain/plan-model.js';
import type { Snapshot } from '../../../lambdas/domain/snapshot.js';

const XSS = '<img src=x onerror=alert(1)>';
const NOW = new Date('2026-03-01T10:00:00.000Z');
const ACCOUNT = '123456789012';

const snapshot: Snapshot = {
  takenAt: NOW.toISOString(),
  users: [
    {
      type: 'user',
      name: 'svc-payments',
      arn: `arn:aws:iam::${ACCOUNT}:user/svc-payments`,
      tags: { 'nhi-governed': 'true', owner: 'Alice@Example.com', env: 'prod' },
      accessKeys: [
        { accessKeyId: 'AKIAOLDKEY0000000001', userName: 'svc-payments', status: 'Active', createdAt: '2025-12-01T10:00:00.000Z', lastUsedAt: null },
        { accessKeyId: 'AKIANEWKEY0000000002', userName: 'svc-payments', status: 'Inactive', createdAt: '2026-02-28T09:00:00.000Z', lastUsedAt: '2026-02-28T12:00:00.000Z' },
      ],
      attachedPolicies: [],
      inlinePolicies: [],
      groups: [],
    },
    { type: 'user', name: 'svc-legacy-ftp', arn: `arn:aws:iam::${ACCOUNT}:user/svc-legacy-ftp`, tags: { 'nhi-governed': 'true', env: XSS }, accessKeys: [], attachedPolicies: [], inlinePolicies: [], groups: [] },
  ],
  roles: [{ type: 'role', name: 'role-deploy', arn: `arn:aws:iam::${ACCOUNT}:role/role-deploy`, tags: { 'nhi-governed': 'true', owner: 'carol@example.com', env: 'prod' }, attachedPolicies: [], inlinePolicies: [] }],
  secrets: [
    {
      type: 'secret',
      name: 'app/db',
      arn: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:app/db-AbCdEf`,
      tags: { 'nhi-governed': 'true', owner: 'alice@example.com', env: 'prod' },
      currentVersionId: 'v1',
      lastRotatedAt: '2026-01-01T00:00:00.000Z',
      lastChangedAt: null,
      createdAt: null,
    },
  ],
};

const deactivate: PlanAction = {
  actionId: 'a1',
  kind: 'iam.deactivateAccessKey',
  params: {},
  target: { type: 'accessKey', id: 'AKIAOLDKEY0000000001', nhi: 'svc-payments' },
  before: { status: 'Active' },
  after: { status: 'Inactive' },
  fingerprint: 'f'.repeat(64),
  inverse: null,
  risk: { reversible: true, prod: true },
  idempotencyKey: 'k1',
  finding: 'KEY_UNUSED',
  phase: 1,
  group: 'revocation',
};

const plan: Pick<Plan, 'findings' | 'actions'> = {
  findings: [{ nhi: `arn:aws:iam::${ACCOUNT}:user/svc-legacy-ftp`, reasonCode: 'OWNER_UNKNOWN', message: `user svc-legacy-ftp has no owner tag ${XSS}` }],
  actions: [deactivate],
};

const rows = identityRows({
  estates: [{ snapshot }],
  plan,
  changesByNhi: new Map([
    ['svc-payments', [{ changeId: 'chg-2', status: 'AWAITING_APPROVAL' }, { changeId: 'chg-1', status: 'VERIFIED' }]],
    [`arn:aws:iam::${ACCOUNT}:role/role-deploy`, [{ changeId: 'chg-3', status: 'FAILED' }]],
  ]),
  now: NOW,
});

describe('identities: the rows', () => {
  it('lists every governed NHI with its account (from the ARN), type, owner and env', () => {
    expect(rows.map((r) => [r.name, r.type, r.account, r.owner, r.env])).toEqual([
      ['svc-payments', 'user', ACCOUNT, 'alice@example.com', 'prod'],
      ['svc-legacy-ftp', 'user', ACCOUNT, null, XSS],
      ['role-deploy', 'role', ACCOUNT, 'carol@example.com', 'prod'],
      ['app/db', 'secret', ACCOUNT, 'alice@example.com', 'prod'],
    ]);
    expect(accountOf('arn:aws:iam::aws:policy/ReadOnlyAccess')).toBeNull();
  });

  it('gives access keys their status, age in days and last use, and a secret its last rotation', () => {
    expect(rows[0]?.accessKeys).toEqual([
      { accessKeyId: 'AKIAOLDKEY0000000001', status: 'Active', ageDays: 90, lastUsedAt: null },
      { accessKeyId: 'AKIANEWKEY0000000002', status: 'Inactive', ageDays: 1, lastUsedAt: '2026-02-28T12:00:00.000Z' },
    ]);
    expect(rows[3]?.secret).toEqual({ lastRotatedAt: '2026-01-01T00:00:00.000Z' });
    expect(rows[2]).toMatchObject({ accessKeys: [], secret: null });
  });

  it("takes the open findings from the reconcile plan's findings (named by name or ARN) and actions", () => {
    expect(rows[0]?.findings).toEqual([{ reasonCode: 'KEY_UNUSED', message: 'a reconcile would run iam.deactivateAccessKey on accessKey AKIAOLDKEY0000000001' }]);
    expect(rows[1]?.findings.map((f) => f.reasonCode)).toEqual(['OWNER_UNKNOWN']);
    expect(rows[2]?.findings).toEqual([]);
    expect(identityRows({ estates: [{ snapshot }], plan: null, changesByNhi: new Map(), now: NOW }).every((r) => r.findings.length === 0)).toBe(true);
  });

  it('names the changes of each NHI (by name or ARN) with their status', () => {
    expect(rows[0]?.changes).toEqual([{ changeId: 'chg-2', status: 'AWAITING_APPROVAL' }, { changeId: 'chg-1', status: 'VERIFIED' }]);
    expect(rows[2]?.changes).toEqual([{ changeId: 'chg-3', status: 'FAILED' }]);
    expect(rows[1]?.changes).toEqual([]);
  });

  it('reconciles everything, as a valid Reconcile Requested event', () => {
    expect(reconcileAllEvent(NOW)).toMatchObject({ detailType: 'Reconcile Requested', source: 'nhigov', detail: { scope: 'all' } });
  });
});

describe('identities: the page', () => {
  const view: IdentitiesView = { takenAt: NOW.toISOString(), rows, policyVersion: 'c'.repeat(64), findingsProblem: null };
  const html = layout(renderIdentitiesPage({ view, now: NOW }), { target: null, nav: SECTIONS });

  it('is in the navigation, as the current section', () => {
    expect(html).toContain('<a href="/console/identities" aria-current="page">Identities</a>');
    expect(html).toContain('<title>Identities · nhi-governor console</title>');
  });

  it('shows one row per NHI with its credentials, findings and changes, every value escaped', () => {
    expect(html).toContain('<caption>4 governed NHIs, 2 with open findings; read');
    expect(html).toContain(`<tr data-nhi="svc-payments" data-account="${ACCOUNT}" data-type="user" data-findings="1">`);
    expect(html).toContain('<li class="key" data-key="AKIAOLDKEY0000000001"><code>AKIAOLDKEY0000000001</code> <span class="pill ok">Active</span> 90 d old, last used never</li>');
    expect(html).toContain('<span class="pill muted">Inactive</span> 1 d old, last used <time datetime="2026-02-28T12:00:00.000Z">');
    expect(html).toContain('last rotated <time datetime="2026-01-01T00:00:00.000Z">');
    expect(html).toContain('<code class="reason">KEY_UNUSED</code>');
    expect(html).toContain('<span class="pill bad">no owner</span>');
    expect(html).toContain('<a href="/console/changes/chg-1"><code>chg-1</code></a> <span class="pill ok">VERIFIED</span>');
    expect(html).toContain(`<code>${ACCOUNT}</code>`);
    expect(html).not.toContain(XSS);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('says why the findings are missing, and when nothing is governed', () => {
    const failed = layout(renderIdentitiesPage({ view: { ...view, policyVersion: null, findingsProblem: `POLICY_INVALID: ${XSS}` }, now: NOW }), { target: null, nav: SECTIONS });
    expect(failed).toContain('The open findings could not be computed: POLICY_INVALID: &lt;img');
    const empty = renderIdentitiesPage({ view: { ...view, rows: [] }, now: NOW }).body;
    expect(empty).toContain('id="identities-empty"');
  });
});
