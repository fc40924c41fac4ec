import { GenerateCredentialReportCommand, GetCredentialReportCommand } from '@aws-sdk/client-iam';
import { AppError } from '../domain/reasons.js';
import type { ReportedAccessKey } from '../domain/snapshot.js';
import { classifyAwsError, connectorStep } from './errors.js';
import type { ConnectorContext } from './types.js';
import { waitUntil } from './waiters.js';

export const CREDENTIAL_REPORT_PERMISSIONS = ['iam:GenerateCredentialReport', 'iam:GetCredentialReport'] as const;

/** How long the read waits for IAM to finish a report it started. */
const REPORT_TIMEOUT_MS = 60_000;

/** One user's row of the IAM credential report, as far as the snapshot uses it. */
export interface CredentialReportRow {
  readonly passwordEnabled: boolean;
  /** cert_1_active or cert_2_active. */
  readonly activeCertificate: boolean;
  /**
   * Its access keys' creation ("last rotated") and last use, by slot; null: N/A. `active`
   * (access_key_N_active) is absent when the report has no such column.
   */
  readonly keys: ReadonlyArray<{ readonly createdAt: string | null; readonly lastUsedAt: string | null; readonly active?: boolean }>;
}

const COLUMNS = ['user', 'password_enabled', 'access_key_1_last_rotated', 'access_key_1_last_used_date', 'access_key_2_last_rotated', 'access_key_2_last_used_date', 'cert_1_active', 'cert_2_active'] as const;
/** AWS's report has them; a report without them still dates each key. */
const OPTIONAL_COLUMNS = ['access_key_1_active', 'access_key_2_active'] as const;

const dateOrNull = (value: string | undefined): string | null => {
  if (!value || Number.isNaN(Date.parse(value))) return null;
  return new Date(value).toISOString();
};

/**
 * Parses the report's CSV. A row whose field count is not the header's (a user name with a comma)
 * is left out: that user is read per call, as every user out of the report is.
 */
export function parseCredentialReport(csv: string): Map<string, CredentialReportRow> {
  const [header, ...rows] = csv.trim().split(/\r?\n/);
  const names = (header ?? '').split(',');
  const missing = COLUMNS.filter((c) => !names.includes(c));
  if (missing.length > 0) throw new AppError('TARGET_UNAVAILABLE', `the credential report lacks a column: it has ${names.join(', ')}`);
  const report = new Map<string, CredentialReportRow>();
  for (const row of rows) {
    const cells = row.split(',');
    if (cells.length !== names.length) continue;
    const cell = (column: (typeof COLUMNS)[number] | (typeof OPTIONAL_COLUMNS)[number]): string | undefined => {
      const i = names.indexOf(column);
      return i < 0 ? undefined : cells[i];
    };
    const active = (column: (typeof OPTIONAL_COLUMNS)[number]) => {
      const value = cell(column);
      return value === undefined ? {} : { active: value === 'true' };
    };
    report.set(cell('user') ?? '', {
      passwordEnabled: cell('password_enabled') === 'true',
      activeCertificate: cell('cert_1_active') === 'true' || cell('cert_2_active') === 'true',
      keys: [
        { createdAt: dateOrNull(cell('access_key_1_last_rotated')), lastUsedAt: dateOrNull(cell('access_key_1_last_used_date')), ...active('access_key_1_active') },
        { createdAt: dateOrNull(cell('access_key_2_last_rotated')), lastUsedAt: dateOrNull(cell('access_key_2_last_used_date')), ...active('access_key_2_active') },
      ],
    });
  }
  return report;
}

/**
 * The keys a row shows, for a snapshot: a slot with a creation date or marked active. Without the
 * active column a dated key is taken as active: the report only selects what to read exactly.
 */
export function reportedKeysOf(row: CredentialReportRow): ReportedAccessKey[] {
  return row.keys.filter((k) => k.active === true || k.createdAt !== null).map((k) => ({ active: k.active ?? true, createdAt: k.createdAt, lastUsedAt: k.lastUsedAt }));
}

/**
 * The account's credential report: two calls for every user (GenerateCredentialReport until
 * COMPLETE, then GetCredentialReport). IAM makes a new one at most every four hours, so what it
 * says can be that old: only a read of the whole account uses it (reconcile all), where per-user
 * calls would be thousands; a change about named NHIs reads each of them exactly.
 */
export async function readCredentialReport(ctx: ConnectorContext): Promise<Map<string, CredentialReportRow>> {
  const generated = await waitUntil(
    () => connectorStep('generating the credential report', classifyAwsError, () => ctx.iam.send(new GenerateCredentialReportCommand({}))),
    (out) => out.State === 'COMPLETE',
    REPORT_TIMEOUT_MS,
  );
  if (!generated.done) throw new AppError('TARGET_UNAVAILABLE', `the credential report was not ready within ${REPORT_TIMEOUT_MS / 1000} s (state ${generated.last.State ?? 'unknown'})`);
  const out = await connectorStep('reading the credential report', classifyAwsError, () => ctx.iam.send(new GetCredentialReportCommand({})));
  return parseCredentialReport(new TextDecoder().decode(out.Content ?? new Uint8Array()));
}

/**
 * The report's last use of a key, matched by its creation time (to the second). Two keys created in
 * the same second match both slots: their last use is known only when the slots agree.
 * undefined: no match, or slots that disagree.
 */
export function reportedLastUse(row: CredentialReportRow | undefined, createdAt: Date | undefined): string | null | undefined {
  if (!row || !createdAt) return undefined;
  const second = Math.floor(createdAt.getTime() / 1000);
  const uses = new Set(row.keys.filter((k) => k.createdAt !== null && Math.floor(Date.parse(k.createdAt) / 1000) === second).map((k) => k.lastUsedAt));
  return uses.size === 1 ? ([...uses][0] ?? null) : undefined;
}
