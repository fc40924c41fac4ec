import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { changeIdForEvent, EVENT_DETAIL_TYPES, eventPattern, parseGovernanceEvent, toPutEventsEntry } from '../../../lambdas/domain/events.js';

const termination = { id: 'hr-1', source: 'hr.system', 'detail-type': 'Employee Terminated', detail: { employeeId: 'E1', email: 'Dave@Example.com' } };

describe('parseGovernanceEvent', () => {
  it('accepts the four contract event types and normalises emails', () => {
    const parsed = parseGovernanceEvent(termination);
    expect(parsed.ok && parsed.event.detail).toEqual({ employeeId: 'E1', email: 'dave@example.com' });
    expect(parseGovernanceEvent({ id: 'o', source: 'hr.system', 'detail-type': 'Owner Changed', detail: { nhi: 'svc-a', fromEmail: 'a@x.io', toEmail: 'b@x.io' } }).ok).toBe(true);
    expect(parseGovernanceEvent({ id: 'c', source: 'security.findings', 'detail-type': 'Credential Exposed', detail: { nhi: 'svc-a', accessKeyId: 'AKIAABCDEFGHIJKLMNOP', severity: 'high' } }).ok).toBe(true);
    expect(parseGovernanceEvent({ id: 'r', source: 'nhigov', 'detail-type': 'Reconcile Requested', detail: { scope: 'all' } }).ok).toBe(true);
  });
  it('refuses unknown types, wrong sources, extra or missing fields', () => {
    expect(parseGovernanceEvent({ ...termination, 'detail-type': 'Employee Hired' })).toMatchObject({ ok: false });
    expect(parseGovernanceEvent({ ...termination, source: 'evil.system' })).toMatchObject({ ok: false });
    expect(parseGovernanceEvent({ ...termination, detail: { ...termination.detail, extra: 1 } })).toMatchObject({ ok: false });
    expect(parseGovernanceEvent({ ...termination, detail: { email: 'a@b.co' } })).toMatchObject({ ok: false });
    expect(parseGovernanceEvent({ ...termination, id: undefined })).toMatchObject({ ok: false, error: 'the event has no id' });
  });
  it('never throws, whatever the input', () => {
    fc.assert(fc.property(fc.anything(), (raw) => typeof parseGovernanceEvent(raw).ok === 'boolean'));
    fc.assert(fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (detail) => typeof parseGovernanceEvent({ ...termination, detail }).ok === 'boolean'));
  });
  it('carries the producer id through PutEvents so the change id survives the bus', () => {
    const parsed = parseGovernanceEvent(termination);
    if (!parsed.ok) throw new Error(parsed.error);
    const entry = toPutEventsEntry(parsed.event);
    const delivered = parseGovernanceEvent({ id: 'eventbridge-assigned', source: entry.Source, 'detail-type': entry.DetailType, detail: JSON.parse(entry.Detail) });
    expect(delivered.ok && delivered.event.id).toBe('hr-1');
    expect(delivered.ok && changeIdForEvent(delivered.event.id)).toBe(changeIdForEvent('hr-1'));
  });
});

describe('changeIdForEvent', () => {
  it('is a valid execution name, stable per event id and distinct across ids', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (a, b) => {
        expect(changeIdForEvent(a)).toMatch(/^chg-[0-9a-f]{24}$/);
        expect(changeIdForEvent(a)).toBe(changeIdForEvent(a));
        if (a !== b) expect(changeIdForEvent(a)).not.toBe(changeIdForEvent(b));
      }),
    );
  });
});

describe('eventPattern', () => {
  it('routes each type by source and detail-type', () => {
    expect(EVENT_DETAIL_TYPES.map(eventPattern)).toEqual([
      { source: ['hr.system'], 'detail-type': ['Employee Terminated'] },
      { source: ['hr.system'], 'detail-type': ['Owner Changed'] },
      { source: ['security.findings'], 'detail-type': ['Credential Exposed'] },
      { source: ['nhigov'], 'detail-type': ['Reconcile Requested'] },
    ]);
  });
});
