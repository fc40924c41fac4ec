import { describe, expect, it } from 'vitest';
import { identityRows, type IdentitiesView } from '../../../console/identities.js';
import { renderIdentitiesPage } from '../../../console/pages/identities.js';
import { deriveHeldStates } from '../../../lambdas/domain/held-states.js';
import { snapshotOf, user } from '../../fixtures/estate-builder.js';
import { events, planFor } from '../../fixtures/planning.js';

const NOW = new Date('2026-07-01T00:00:00.000Z');
const estate = (status: 'Active' | 'Inactive') => snapshotOf({ users: [user('svc-held', { owner: 'dave@example.com', keys: [{ accessKeyId: 'AKIAHELD00000001', status, createdAt: '2026-06-01T00:00:00.000Z' }] })] });

describe('Identities: held states', () => {
  const term = planFor(events.terminated('dave@example.com'), estate('Active'), { changeId: 'chg-term' });
  const keyAction = term.actions.find((a) => a.kind === 'iam.deactivateAccessKey');
  const held = [...deriveHeldStates([{ changeId: 'chg-term', kind: 'change', status: 'VERIFIED', createdAt: NOW.toISOString(), actions: { [keyAction?.actionId ?? '']: { status: 'VERIFIED' } }, plan: term }]).values()];

  it('shows per NHI what a verified change left and whether it holds now', () => {
    const holding = identityRows({ estates: [{ snapshot: estate('Inactive') }], plan: null, changesByNhi: new Map(), now: NOW, held });
    expect(holding[0]?.held).toEqual([expect.objectContaining({ verdict: 'holds', held: { status: 'Inactive' }, establishedBy: expect.objectContaining({ changeId: 'chg-term' }) })]);
    const drifted = identityRows({ estates: [{ snapshot: estate('Active') }], plan: null, changesByNhi: new Map(), now: NOW, held });
    expect(drifted[0]?.held).toEqual([expect.objectContaining({ verdict: 'drifted', live: { status: 'Active' } })]);
    const view: IdentitiesView = { takenAt: NOW.toISOString(), rows: drifted, policyVersion: null, findingsProblem: null };
    const body = renderIdentitiesPage({ view, now: NOW }).body;
    expect(body).toContain('<th scope="col">Held states</th>');
    expect(body).toContain('data-held="drifted"');
    expect(body).toContain('href="/console/changes/chg-term"');
  });
});
