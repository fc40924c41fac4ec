import { describe, expect, it } from 'vitest';
import { parseCredentialReport, reportedKeysOf, reportedLastUse } from '../../../lambdas/connectors/credential-report.js';

/** AWS's columns, in AWS's order. */
const HEADER =
  'user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated';

const row = (user: string, k1: [string, string, string], k2: [string, string, string], password = 'false') =>
  [user, `arn:aws:iam::1:user/${user}`, '2026-01-01T00:00:00+00:00', password, 'no_information', 'N/A', 'N/A', 'false', k1[0], k1[1], k1[2], 'N/A', 'N/A', k2[0], k2[1], k2[2], 'N/A', 'N/A', 'false', 'N/A', 'false', 'N/A'].join(',');

const NONE: [string, string, string] = ['false', 'N/A', 'N/A'];

describe('parseCredentialReport with AWS columns', () => {
  it('reads which slots are active, their creation and last use; N/A and no_information are unknown', () => {
    const report = parseCredentialReport(
      [
        HEADER,
        row('one', ['true', '2026-01-01T00:00:00+00:00', 'N/A'], NONE, 'true'),
        row('two', ['false', '2026-01-01T00:00:00+00:00', '2026-02-01T00:00:00+00:00'], ['true', '2026-03-01T00:00:00+00:00', 'no_information']),
        // Key 1 deleted, key 2 kept: the slot stays where it was.
        row('second-only', NONE, ['true', '2026-03-01T00:00:00+00:00', 'N/A']),
        '<root_account>,arn:aws:iam::1:root,2026-01-01T00:00:00+00:00,not_supported,N/A,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A',
      ].join('\r\n') + '\r\n',
    );
    const one = report.get('one');
    expect(one?.passwordEnabled).toBe(true);
    expect(one && reportedKeysOf(one)).toEqual([{ active: true, createdAt: '2026-01-01T00:00:00.000Z', lastUsedAt: null }]);
    const two = report.get('two');
    expect(two && reportedKeysOf(two)).toEqual([
      { active: false, createdAt: '2026-01-01T00:00:00.000Z', lastUsedAt: '2026-02-01T00:00:00.000Z' },
      { active: true, createdAt: '2026-03-01T00:00:00.000Z', lastUsedAt: null },
    ]);
    const second = report.get('second-only');
    expect(second && reportedKeysOf(second)).toEqual([{ active: true, createdAt: '2026-03-01T00:00:00.000Z', lastUsedAt: null }]);
    expect(report.get('<root_account>')?.keys.every((k) => k.active === false)).toBe(true);
  });

  it('takes a dated key as active when the report has no active columns (it only selects what to read)', () => {
    const report = parseCredentialReport(['user,password_enabled,access_key_1_last_rotated,access_key_1_last_used_date,access_key_2_last_rotated,access_key_2_last_used_date,cert_1_active,cert_2_active', 'svc,false,2026-01-01T00:00:00+00:00,N/A,N/A,N/A,false,false'].join('\n'));
    const svc = report.get('svc');
    expect(svc && reportedKeysOf(svc)).toEqual([{ active: true, createdAt: '2026-01-01T00:00:00.000Z', lastUsedAt: null }]);
  });

  it('an empty report, or a header alone, names nobody', () => {
    expect(parseCredentialReport(HEADER).size).toBe(0);
    expect(parseCredentialReport(`${HEADER}\n`).size).toBe(0);
  });
});

describe('reportedLastUse', () => {
  const report = parseCredentialReport(
    [
      HEADER,
      row('same-second', ['true', '2026-01-01T00:00:00+00:00', 'N/A'], ['true', '2026-01-01T00:00:00+00:00', 'N/A']),
      row('same-second-used', ['true', '2026-01-01T00:00:00+00:00', '2026-05-01T00:00:00+00:00'], ['true', '2026-01-01T00:00:00+00:00', 'N/A']),
    ].join('\n'),
  );

  it('knows the last use of two keys made in the same second when both slots agree', () => {
    expect(reportedLastUse(report.get('same-second'), new Date('2026-01-01T00:00:00.700Z'))).toBeNull();
  });

  it('does not guess when the slots of one second disagree', () => {
    expect(reportedLastUse(report.get('same-second-used'), new Date('2026-01-01T00:00:00Z'))).toBeUndefined();
  });

  it('a user the report does not name, or a key it does not date: unknown', () => {
    expect(reportedLastUse(undefined, new Date('2026-01-01T00:00:00Z'))).toBeUndefined();
    expect(reportedLastUse(report.get('same-second'), undefined)).toBeUndefined();
  });
});
