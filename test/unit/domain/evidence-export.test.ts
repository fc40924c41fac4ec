import { describe, expect, it } from 'vitest';
import { GENESIS_HASH, sealEvidence, type EvidenceDraft, type EvidenceEvent } from '../../../lambdas/domain/evidence.js';
import { canonicalJson } from '../../../lambdas/domain/canonical.js';
import { toCsv, toJsonl } from '../../../cli/lib/evidence-format.js';
import { renderEvidenceHtml } from '../../../cli/lib/evidence-html.js';
import type { EvidenceReport } from '../../../cli/lib/evidence-report.js';

const CHANGE = 'chg-aaaaaaaaaaaaaaaaaaaaaaaa';
const hostile = '<script>alert("x")</script> & \'quotes\'';
function chain(): EvidenceEvent[] {
  const drafts: EvidenceDraft[] = [
    { changeId: CHANGE, type: 'TRIGGERED', actor: '=HYPERLINK("http://evil")', policyVersion: 'p'.repeat(64), data: { detailType: 'Employee Terminated', source: 'hr.system', detail: { employeeId: hostile, email: 'x@example.com' } } },
    { changeId: CHANGE, type: 'PLANNED', actor: 'nhigov:automation', policyVersion: 'p'.repeat(64), data: { planHash: 'h'.repeat(64), actions: [{ actionId: 'a1', kind: 'iam.deactivateAccessKey', target: { type: 'accessKey', id: 'AKIA1', nhi: hostile }, before: { status: 'Active' }, after: { status: 'Inactive' }, risk: { reversible: true, prod: false }, finding: 'OWNER_TERMINATED' }], findings: [] } },
    { changeId: CHANGE, type: 'VERIFIED', actor: 'nhigov:automation', nhi: 'svc, "quoted"\nline', actionId: 'a1', policyVersion: 'p'.repeat(64), data: { observed: { status: 'Inactive' }, expected: { status: 'Inactive' } } },
    { changeId: CHANGE, type: 'COMPLETED', actor: 'nhigov:automation', policyVersion: 'p'.repeat(64), data: { status: 'VERIFIED', reasonCodes: [] } },
  ];
  const events: EvidenceEvent[] = [];
  drafts.forEach((d, i) => events.push(sealEvidence(d, i + 1, `2025-03-01T10:00:0${i}.000Z`, events[i - 1]?.hash ?? GENESIS_HASH)));
  return events;
}

describe('evidence exports', () => {
  const events = chain();

  it('jsonl: one event per line, exactly the stored event, contract field order', () => {
    const lines = toJsonl(events).trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines.map((l) => JSON.parse(l))).toEqual(events);
    expect(Object.keys(JSON.parse(lines[2] as string))).toEqual(['changeId', 'seq', 'type', 'at', 'actor', 'nhi', 'actionId', 'policyVersion', 'data', 'prevHash', 'hash']);
  });

  it('csv: a header, RFC 4180 quoting, data as canonical JSON, formulas defused', () => {
    const csv = toCsv(events);
    const [header, first] = csv.split('\r\n');
    expect(header).toBe('changeId,seq,type,at,actor,nhi,actionId,reasonCode,policyVersion,data,prevHash,hash');
    expect(first).toContain(`,"'=HYPERLINK(""http://evil"")",`);
    expect(first).toContain(`"${canonicalJson(events[0]?.data).replace(/"/g, '""')}"`);
    expect(csv).toContain('"svc, ""quoted""\nline"');
    expect(csv.endsWith('\r\n')).toBe(true);
  });

  it('html: self-contained, no script, every value escaped, chain status shown', () => {
    const report: EvidenceReport = {
      changeId: CHANGE,
      status: 'VERIFIED',
      trigger: 'Employee Terminated',
      createdAt: events[0]?.at ?? null,
      policyVersions: ['p'.repeat(64)],
      chain: { ok: false, events: 4, head: { seq: 4, hash: events[3]?.hash ?? '' }, complete: true, brokenAt: 3, brokenType: 'VERIFIED', reason: 'hash does not match <b>', warnings: [] },
      events,
    };
    const html = renderEvidenceHtml(report, new Date('2025-03-02T00:00:00Z'));
    expect(html).not.toMatch(/<script|src=|href=|@import|url\(/i);
    expect(html).toContain("default-src 'none'");
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;');
    expect(html).toContain('Chain BROKEN at seq 3 (VERIFIED): hash does not match &lt;b&gt;');
    for (const heading of ['Chain status', 'Trigger', 'Plan', 'Decision and approvals', 'Observed states', 'Outcome', 'Timeline']) expect(html).toContain(`<h2>${heading}</h2>`);
    expect(html).toContain('@media print');
  });
});

describe('evidence html: each event\'s data read with a schema', () => {
  const P = 'p'.repeat(64);
  const PLAN = 'c'.repeat(64);
  const action = (actionId: string, id: string, extra: Record<string, string> = {}) => ({ actionId, kind: 'iam.deactivateAccessKey', target: { type: 'accessKey', id, nhi: 'svc-a' }, before: { status: 'Active' }, after: { status: 'Inactive' }, fingerprint: 'f'.repeat(64), finding: 'OWNER_TERMINATED', risk: { reversible: false, prod: true }, ...extra });
  const sealed = (drafts: EvidenceDraft[]): EvidenceEvent[] => {
    const out: EvidenceEvent[] = [];
    drafts.forEach((d, i) => out.push(sealEvidence(d, i + 1, `2025-03-01T10:00:0${i}.000Z`, out[i - 1]?.hash ?? GENESIS_HASH)));
    return out;
  };
  const render = (drafts: EvidenceDraft[]): string => {
    const events = sealed(drafts);
    const report: EvidenceReport = { changeId: CHANGE, status: 'VERIFIED', trigger: 'Employee Terminated', createdAt: events[0]?.at ?? null, policyVersions: [P], chain: { ok: true, events: events.length, head: { seq: events.length, hash: events.at(-1)?.hash ?? '' }, complete: true, warnings: [] }, events };
    return renderEvidenceHtml(report, new Date('2025-03-02T00:00:00Z'));
  };
  const planSection = (html: string): string => html.slice(html.indexOf('<h2>Plan</h2>'), html.indexOf('<h2>Decision and approvals</h2>'));
  const draft = (type: EvidenceDraft['type'], data: EvidenceDraft['data'], more: Partial<EvidenceDraft> = {}): EvidenceDraft => ({ changeId: CHANGE, type, actor: 'nhigov:automation', policyVersion: P, data, ...more });

  it('a plan recorded in parts: every part\'s actions and findings, extra fields (a rollback\'s undoes) kept out of the way, a later plan not mixed in', () => {
    const html = planSection(render([
      draft('PLANNED', { planHash: PLAN, actions: [action('a1', 'AKIAONE')], findings: [{ nhi: 'svc-b', reasonCode: 'OWNER_UNKNOWN', message: 'no owner tag' }], part: 1, parts: 2 }),
      draft('PLANNED', { planHash: PLAN, actions: [action('a2', 'AKIATWO', { undoes: 'a1' })], findings: [], part: 2, parts: 2 }),
      draft('PLANNED', { planHash: 'd'.repeat(64), actions: [action('a3', 'AKIALATER')], followUpOf: PLAN, round: 1 }),
    ]));
    expect(html).toContain(`Plan hash <code>${PLAN}</code>`);
    expect(html).toContain('AKIAONE');
    expect(html).toContain('AKIATWO');
    expect(html).not.toContain('AKIALATER');
    expect(html).toContain('<strong>irreversible</strong><br><strong>prod</strong>');
    expect(html).toContain('<li><strong>OWNER_UNKNOWN</strong> svc-b: no owner tag</li>');
    expect(html).not.toContain('cannot read');
  });

  it('a PLANNED whose data is not a plan\'s: the page says so for that event, shows the data as recorded, and renders the rest', () => {
    const html = render([
      draft('TRIGGERED', { detailType: 'Employee Terminated', source: 'hr.system', detail: {} }),
      draft('PLANNED', { planHash: PLAN, actions: [{ actionId: 'a1', kind: 'iam.deactivateAccessKey', target: '<svc-a>' }] }),
      draft('COMPLETED', { status: 'VERIFIED', reasonCodes: [] }),
    ]);
    const plan = planSection(html);
    expect(plan).toContain('<p class="verdict broken">PLANNED event (seq 2) has data this page cannot read: actions.0.target: ');
    expect(plan).toContain('&quot;&lt;svc-a&gt;&quot;');
    expect(plan).not.toContain('<table>');
    expect(html).toContain('<span class="pill ok">VERIFIED</span>');
  });

  it('a later part the page cannot read is named under the plan, not skipped silently', () => {
    const html = planSection(render([
      draft('PLANNED', { planHash: PLAN, actions: [action('a1', 'AKIAONE')], part: 1, parts: 2 }),
      draft('PLANNED', { planHash: PLAN, actions: 'a2', part: 2, parts: 2 }),
    ]));
    expect(html).toContain('AKIAONE');
    expect(html).toContain('PLANNED event (seq 2) has data this page cannot read: actions: ');
  });

  it('a trigger, an observed state and an outcome whose data is malformed: said for that event, no crash', () => {
    const html = render([
      draft('TRIGGERED', { detailType: 42, source: 'hr.system' }),
      draft('VERIFIED', { observed: { status: 'Inactive' }, expected: { status: 'Inactive' } }, { actionId: 'a1' }),
      draft('VERIFY_FAILED', { observed: { status: 'Active' }, expected: { status: 'Inactive' } }, { actionId: 'a2' }),
      draft('COMPLETED', { status: 'VERIFIED', reasonCodes: 'none' }),
    ]);
    expect(html).toContain('TRIGGERED event (seq 1) has data this page cannot read: detailType: ');
    expect(html).toContain('COMPLETED event (seq 4) has data this page cannot read: reasonCodes: ');
    // Observed states read: both rows, the observed state shown.
    expect(html).toContain('<td class="broken">VERIFY_FAILED</td><td><pre>{\n  &quot;status&quot;: &quot;Active&quot;\n}</pre></td>');
  });
});
