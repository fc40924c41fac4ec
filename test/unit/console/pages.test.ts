import { describe, expect, it } from 'vitest';
import type { ShowDocument } from '../../../cli/lib/changes.js';
import type { EvidenceReport } from '../../../cli/lib/evidence-report.js';
import type { PolicyStatusDocument } from '../../../cli/lib/policy-status.js';
import { GENESIS_HASH, sealEvidence, verifyChain, type EvidenceEvent } from '../../../lambdas/domain/evidence.js';
import type { Plan, PlanAction } from '../../../lambdas/domain/plan-model.js';
import type { StackTarget } from '../../../cli/lib/context.js';
import { age, formatDuration, layout, SECTIONS, type ConsoleFrame, type PageModel } from '../../../console/html.js';
import { renderChangePage as changeModel, type ChangePageModel } from '../../../console/pages/change.js';
import { refreshFor, renderChangesPage as changesModel, type ChangeRow, type ChangesPageModel } from '../../../console/pages/changes.js';
import { renderPolicyPage as policyModel, type PolicyPageModel } from '../../../console/pages/policy.js';
import { sameOrigin } from '../../../console/route.js';

const XSS = '<img src=x onerror=alert(1)>';
const TARGET: StackTarget = { stackName: 'NhiGovernor', mode: 'stack', region: 'eu-west-1', account: '123456789012', consoleUrl: null };
const FRAME: ConsoleFrame = { target: TARGET, nav: SECTIONS };
const framed = (model: PageModel): string => layout(model, FRAME);
const renderChangesPage = (model: ChangesPageModel): string => framed(changesModel(model));
const renderChangePage = (model: ChangePageModel): string => framed(changeModel(model));
const renderPolicyPage = (model: PolicyPageModel): string => framed(policyModel(model));
const NOW = new Date('2026-03-01T10:05:00.000Z');

function row(changeId: string, status: string, extra: Partial<ChangeRow> = {}): ChangeRow {
  return { changeId, status, trigger: 'Employee Terminated', createdAt: '2026-03-01T10:00:00.000Z', actions: 2, reasonCodes: [], owners: ['owner@example.com'], ...extra };
}

const action: PlanAction = {
  actionId: 'a1',
  kind: 'iam.deactivateAccessKey',
  params: { userName: 'svc-x', accessKeyId: 'AKIAEXAMPLE' },
  target: { type: 'accessKey', id: 'AKIAEXAMPLE', nhi: 'svc-x' },
  before: { status: 'Active' },
  after: { status: 'Inactive' },
  fingerprint: 'f'.repeat(64),
  inverse: { kind: 'iam.reactivateAccessKey', params: {} },
  risk: { reversible: true, prod: true },
  idempotencyKey: 'k1',
  finding: 'OWNER_TERMINATED',
  phase: 1,
  group: 'revocation',
};

const plan: Plan = {
  changeId: 'chg-1',
  trigger: { eventId: 'e1', detailType: 'Employee Terminated', source: 'hr.system', detail: { email: 'owner@example.com', employeeId: XSS } },
  policyVersion: 'a'.repeat(64),
  createdAt: '2026-03-01T10:00:00.000Z',
  asOf: '2026-03-01T10:00:00.000Z',
  actions: [action],
  findings: [],
  approval: { required: true, reasons: ['env=prod on svc-x'], afterTheFact: false, group: 'iam-approvers', approvers: ['approver@example.com', 'secops@example.com'], owners: ['owner@example.com'] },
};

function events(types: EvidenceEvent['type'][]): EvidenceEvent[] {
  const out: EvidenceEvent[] = [];
  for (const type of types) out.push(sealEvidence({ changeId: 'chg-1', type, actor: type === 'TRIGGERED' ? XSS : 'nhigov:automation', policyVersion: 'v', data: { comment: XSS } }, out.length + 1, '2026-03-01T10:00:01.000Z', out.at(-1)?.hash ?? GENESIS_HASH));
  return out;
}

function show(status: string, approval: Record<string, unknown> | null, observed: Record<string, unknown> | null = null): ShowDocument {
  return {
    changeId: 'chg-1',
    status,
    trigger: 'Employee Terminated',
    createdAt: plan.createdAt,
    reasonCodes: [],
    planHash: 'b'.repeat(64),
    policyVersion: plan.policyVersion,
    executionStatus: 'RUNNING',
    plan,
    approval,
    actions: [{ actionId: 'a1', kind: action.kind, target: action.target, status: observed ? 'VERIFIED' : 'PLANNED', reasonCode: null, attempts: observed ? 1 : 0, observed, finding: action.finding, risk: action.risk }],
    evidence: [],
  };
}

function report(evidence: EvidenceEvent[]): EvidenceReport {
  const verdict = verifyChain(evidence);
  return {
    changeId: 'chg-1',
    status: 'VERIFIED',
    trigger: 'Employee Terminated',
    createdAt: plan.createdAt,
    policyVersions: ['v'],
    chain: { ok: verdict.ok, events: verdict.events, head: null, complete: true, warnings: [], ...(verdict.ok ? {} : { brokenAt: verdict.brokenAt, reason: verdict.reason }) },
    events: evidence,
  };
}

const pending = { approvalId: 'secret-nonce', status: 'PENDING', group: 'iam-approvers', approvers: ['approver@example.com', 'secops@example.com'], reasons: ['env=prod on svc-x'], requestedAt: plan.createdAt, expiresAt: '2026-03-02T10:00:00.000Z' };

describe('console changes list', () => {
  it('shows status, trigger, owners, actions, reason codes and age; every value escaped', () => {
    const html = renderChangesPage({ rows: [row('chg-1', 'VERIFIED', { owners: [XSS], reasonCodes: ['OWNER_TERMINATED'], trigger: XSS })], status: null, now: NOW, refreshPaused: false });
    expect(html).not.toContain(XSS);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('<a href="/console/changes/chg-1">');
    expect(html).toContain('<code class="reason">OWNER_TERMINATED</code>');
    expect(html).toContain('5 min');
    expect(html).toContain('<label for="status-filter">Status</label>');
    expect(html).toContain('<title>Changes · nhi-governor console</title>');
  });

  it('filters by status', () => {
    const html = renderChangesPage({ rows: [row('chg-1', 'VERIFIED'), row('chg-2', 'FAILED')], status: 'FAILED', now: NOW, refreshPaused: false });
    expect(html).toContain('data-change-id="chg-2"');
    expect(html).not.toContain('data-change-id="chg-1"');
    expect(html).toContain('<option value="FAILED" selected>FAILED (1)</option>');
  });

  it('reloads itself while changes are in flight (slowly when they only wait for a person), and can be paused', () => {
    expect(refreshFor(['VERIFIED', 'APPLYING'])).toBe(2);
    expect(refreshFor(['VERIFIED', 'AWAITING_APPROVAL'])).toBe(10);
    expect(refreshFor(['VERIFIED', 'NO_CHANGES'])).toBeUndefined();
    expect(renderChangesPage({ rows: [row('c', 'APPLYING')], status: null, now: NOW, refreshPaused: false })).toContain('<meta http-equiv="refresh" content="2">');
    const paused = renderChangesPage({ rows: [row('c', 'APPLYING')], status: null, now: NOW, refreshPaused: true });
    expect(paused).not.toContain('http-equiv="refresh"');
    expect(paused).toContain('Resume automatic refresh');
    expect(renderChangesPage({ rows: [row('c', 'VERIFIED')], status: null, now: NOW, refreshPaused: false })).not.toContain('http-equiv="refresh"');
  });
});

describe('console change page', () => {
  it('offers Approve and Reject as real submit buttons of a labelled form while approval is pending', () => {
    const html = renderChangePage({ doc: show('AWAITING_APPROVAL', pending), report: report(events(['TRIGGERED', 'PLANNED'])) });
    expect(html).toContain('<form id="decision" method="post" action="/console/changes/chg-1/decision"');
    expect(html).toContain('<button type="submit" class="approve" name="decision" value="approve">Approve</button>');
    expect(html).toContain('<button type="submit" class="reject" name="decision" value="reject">Reject</button>');
    expect(html).toContain('<label for="approver">Approver identity</label>');
    expect(html).toContain('<label for="comment">');
    expect(html).toContain('<option value="approver@example.com" selected>approver@example.com</option>');
    expect(html).toContain('<option value="owner@example.com">owner@example.com (owner: will be refused)</option>');
    expect(html).not.toContain('secret-nonce');
    expect(html).not.toContain('http-equiv="refresh"');
  });

  it('shows no form once decided, nor when the change does not await approval', () => {
    expect(renderChangePage({ doc: show('APPLYING', { ...pending, status: 'APPROVED', decidedBy: 'approver@example.com', decidedAt: plan.createdAt, channel: 'cli' }), report: null })).not.toContain('<form id="decision"');
    expect(renderChangePage({ doc: show('VERIFIED', null), report: null })).toContain('Required (env=prod on svc-x); not requested yet.');
  });

  it('draws the plan as a before → after diff with risk, finding, attempts and the observed state', () => {
    const html = renderChangePage({ doc: show('VERIFIED', null, { status: 'Inactive' }), report: null });
    expect(html).toContain('<del><span class="sr-only">was </span><code>&quot;Active&quot;</code></del>');
    expect(html).toContain('<ins><span class="sr-only">becomes </span><code>&quot;Inactive&quot;</code></ins>');
    expect(html).toContain('<strong>prod, reversible</strong>');
    expect(html).toContain('<code class="reason">OWNER_TERMINATED</code>');
    expect(html).toContain('<span class="pill ok">matches</span>');
    expect(html).toContain('<code>iam.reactivateAccessKey</code>');
  });

  it('shows the chain verdict and escapes every evidence value', () => {
    const chain = events(['TRIGGERED', 'PLANNED', 'COMPLETED']);
    const ok = renderChangePage({ doc: show('VERIFIED', null), report: report(chain) });
    expect(ok).toContain('data-chain="verified"');
    expect(ok).not.toContain(XSS);
    expect(ok).toContain('href="/console/changes/chg-1/evidence.html"');
    const tampered = chain.map((e) => (e.seq === 2 ? { ...e, actor: 'mallory' } : e));
    const broken = renderChangePage({ doc: show('VERIFIED', null), report: report(tampered) });
    expect(broken).toContain('data-chain="broken"');
    expect(broken).toContain('at seq 2');
  });

  it('reloads itself while the workflow works, not while it waits for a person', () => {
    expect(renderChangePage({ doc: show('APPLYING', null), report: null })).toContain('http-equiv="refresh"');
    expect(renderChangePage({ doc: { ...show('VERIFIED', null), executionStatus: 'SUCCEEDED' }, report: null })).not.toContain('http-equiv="refresh"');
  });
});

describe('console policy page', () => {
  it('shows the active version, who activated it, exemptions with expiry, and lag', () => {
    const status: PolicyStatusDocument = {
      active: {
        version: 'c'.repeat(64), name: 'default', activatedBy: 'lead@example.com', activatedAt: '2026-03-01T09:00:00.000Z', supersedes: null, keyId: 'k1', signedAt: '2026-03-01T08:00:00.000Z', valid: true,
        exemptions: [
          { nhi: 'svc-a', reason: XSS, ticket: 'SEC-1', approver: 'ciso@example.com', expiresAt: '2026-03-02T10:05:00.000Z', inForce: true },
          { nhi: 'svc-b', reason: 'legacy', ticket: 'SEC-2', approver: 'ciso@example.com', expiresAt: '2026-02-01T00:00:00.000Z', inForce: false },
        ],
      },
      trustedKeyId: 'k1',
      previous: [],
      runtimes: [{ runtime: 'local-gateway:1', version: 'd'.repeat(64), lastSeenAt: '2026-03-01T10:00:00.000Z', state: 'lagging', current: false, versionsBehind: 1, lagSince: '2026-03-01T09:00:00.000Z', lagSeconds: 3900 }],
      lagging: 1,
    };
    const html = renderPolicyPage({ status, now: NOW });
    expect(html).toContain('<dd id="policy-activated-by">lead@example.com</dd>');
    expect(html).toContain('<span class="pill ok">in force</span> <span class="muted">1 d left</span>');
    expect(html).toContain('<span class="pill bad">expired</span>');
    expect(html).toContain('1 runtime not on the active version');
    expect(html).toContain('1.1 h');
    expect(html).not.toContain(XSS);
  });
});

describe('console basics', () => {
  it('has landmarks, a skip link and the current section marked', () => {
    const html = framed({ title: 'Policy', section: 'policy', body: '' });
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('<a class="skip" href="#main">Skip to content</a>');
    expect(html).toContain('<nav aria-label="Console sections">');
    expect(html).toContain('<main id="main" tabindex="-1">');
    expect(html).toContain('<a href="/console/policy" aria-current="page">Policy</a>');
    expect(html).toContain('<a href="/console/identities">Identities</a>');
    expect(html).not.toContain('Outbox');
  });

  it('names the stack it looks at in the header of every page: name, mode, region, account (escaped)', () => {
    const html = framed({ title: 'Changes', section: 'changes', body: '' });
    expect(html).toContain('<dd id="stack-name">NhiGovernor</dd>');
    expect(html).toContain('<dd id="stack-mode">deployed</dd>');
    expect(html).toContain('<dd id="stack-region">eu-west-1</dd>');
    expect(html).toContain('<dd id="stack-account">123456789012</dd>');
    expect(html).not.toContain('lost on <code>nhigov local down</code>');
    const local = layout({ title: 'Changes', section: 'changes', body: '' }, { target: { ...TARGET, mode: 'local', stackName: XSS }, nav: SECTIONS });
    expect(local).toContain('<dd id="stack-mode">local</dd>');
    expect(local).toContain('lost on <code>nhigov local down</code>');
    expect(local).not.toContain(XSS);
  });

  it('lists the pages a host adds after its own', () => {
    const html = layout({ title: 'Outbox', section: 'outbox', body: '' }, { target: TARGET, nav: [...SECTIONS, { id: 'outbox', label: 'Outbox', href: '/console/outbox' }] });
    expect(html).toContain('<li><a href="/console/policy">Policy</a></li><li><a href="/console/outbox" aria-current="page">Outbox</a></li>');
  });

  it('accepts decisions posted from the console only', () => {
    const headers = (h: Record<string, string>) => ({ headers: { host: '127.0.0.1:4566', ...h } });
    expect(sameOrigin(headers({ origin: 'http://127.0.0.1:4566', 'sec-fetch-site': 'same-origin' }))).toBe(true);
    expect(sameOrigin(headers({}))).toBe(true);
    expect(sameOrigin(headers({ origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }))).toBe(false);
    expect(sameOrigin(headers({ origin: 'https://evil.example' }))).toBe(false);
    expect(sameOrigin(headers({ origin: 'null' }))).toBe(false);
  });

  it('formats durations and ages for people', () => {
    expect([850, 4_200, 42_000, 180_000, 9_000_000, 5 * 86_400_000].map(formatDuration)).toEqual(['850 ms', '4.2 s', '42 s', '3 min', '2.5 h', '5 d']);
    expect(age('not a date', NOW)).toBe('-');
  });
});
