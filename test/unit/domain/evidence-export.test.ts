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
