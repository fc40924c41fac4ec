import { accessKeyOwner } from '../../connectors/iam/access-key-owner.js';
import { readCredentialReport, reportedKeysOf, type CredentialReportRow } from '../../connectors/credential-report.js';
import { closeOverKeyHolding, readBulk, readDetail, readSnapshot, withDetail, type BulkRead, type Detail, type DetailWanted } from '../../connectors/snapshot-reader.js';
import type { ConnectorContext } from '../../connectors/types.js';
import type { GovernanceEvent } from '../../domain/events.js';
import type { ActionTarget, Plan, PlanFinding } from '../../domain/plan-model.js';
import type { ReasonCode } from '../../domain/reasons.js';
import { HELD_STATE_DRIFT } from '../../domain/rules/held-states.js';
import { snapshotScopeFor } from '../../domain/snapshot-scope.js';
import { holdsAccessKey, type Snapshot, type UserSnapshot } from '../../domain/snapshot.js';

/** Findings made of the bulk read alone: the NHI they name needs nothing read one by one. */
const BULK_ONLY_FINDINGS: ReadonlySet<ReasonCode> = new Set<ReasonCode>(['OWNER_UNKNOWN']);

/**
 * The live state a trigger's plan is made from, in one account.
 *
 * A reconcile of the whole account reads in two passes. The first reads in bulk
 * (GetAccountAuthorizationDetails, ListSecrets, the credential report) and takes each user's keys
 * from the report, which names no key ids and can be hours old; `planOn` over that snapshot tells
 * which NHIs may need an action (the rules turn what they could act on there into findings,
 * rules/report-facts.ts). The second reads exactly, one by one, only those NHIs and what key holding
 * brings in. The returned snapshot is the refined one, the only one a plan may be made from:
 * every target in it was read exactly, and CheckStale re-reads each before anything is written.
 *
 * Every other trigger names its NHIs (an owner, one NHI, an exposed key): read one by one, in
 * scope, as readSnapshot does. An exposed key the event names no user for (AWS Health) is traced
 * to its user first: IAM tells, by key id.
 */
export async function readPlanningSnapshot(ctx: ConnectorContext, event: GovernanceEvent, planOn: (snapshot: Snapshot) => Plan): Promise<Snapshot> {
  if (event.detailType !== 'Reconcile Requested' || event.detail.scope !== 'all') return readTriggerSnapshot(ctx, event);
  const bulk = await readBulk(ctx);
  const report: ReadonlyMap<string, CredentialReportRow> = bulk.users.length > 0 ? await readCredentialReport(ctx) : new Map();
  // Users the report does not name (made since it was, or a name it cannot carry): read one by one now.
  const unreported = closeOverKeyHolding(bulk, bulk.users.filter((u) => !report.has(u.name)).map((u) => u.name), []);
  const first = await readDetail(ctx, { keys: unreported.users, credentials: unreported.users, secrets: unreported.secrets }, report);
  const coarse = partlyFromReport(bulk, first, report);
  const second = await readDetail(ctx, detailWanted(coarse, planOn(coarse)), report);
  return partlyFromReport(bulk, mergeDetail(first, second), report);
}

/** The read of a trigger that names its NHIs: readSnapshot over the event's scope. */
export async function readTriggerSnapshot(ctx: ConnectorContext, event: GovernanceEvent): Promise<Snapshot> {
  const keyId = unnamedExposedKey(event);
  if (keyId === undefined) return readSnapshot(ctx, snapshotScopeFor(event));
  return (await readExposedKeySnapshot(ctx, event, keyId)) ?? readSnapshot(ctx, snapshotScopeFor(event, null));
}

/** The access key a Credential Exposed names without its user (AWS Health); undefined for any other trigger. */
export function unnamedExposedKey(event: GovernanceEvent): string | undefined {
  return event.detailType === 'Credential Exposed' && !event.detail.nhi ? event.detail.accessKeyId : undefined;
}

/** The read of an exposed key traced to its user by key id; null when this account's IAM does not know the key. */
export async function readExposedKeySnapshot(ctx: ConnectorContext, event: GovernanceEvent, keyId: string): Promise<Snapshot | null> {
  const owner = await accessKeyOwner(ctx, keyId);
  return owner ? readSnapshot(ctx, snapshotScopeFor(event, owner)) : null;
}

/**
 * What the second pass reads, from the first pass's snapshot and its plan: the NHIs the plan's
 * actions target and its findings name (but findings of bulk facts alone), closed over key holding;
 * of those, only what was not read yet. Users named by a held-state finding also get their other
 * credentials read (held states of SSH keys, certificates, service-specific credentials). Pure.
 */
export function detailWanted(coarse: Snapshot, plan: { readonly actions: ReadonlyArray<{ readonly target: Pick<ActionTarget, 'nhi'> }>; readonly findings: ReadonlyArray<Pick<PlanFinding, 'nhi' | 'reasonCode'>> }): DetailWanted {
  const refs = new Set([...plan.actions.map((a) => a.target.nhi), ...plan.findings.filter((f) => !BULK_ONLY_FINDINGS.has(f.reasonCode)).map((f) => f.nhi)]);
  const held = new Set(plan.findings.filter((f) => f.reasonCode === HELD_STATE_DRIFT).map((f) => f.nhi));
  const named = (refSet: ReadonlySet<string>) => (nhi: { name: string; arn: string }) => refSet.has(nhi.name) || refSet.has(nhi.arn);
  const closed = closeOverKeyHolding(
    coarse,
    coarse.users.filter(named(refs)).map((u) => u.name),
    coarse.secrets.filter((s) => holdsAccessKey(s) && named(refs)(s)).map((s) => s.arn),
  );
  const users = new Map(coarse.users.map((u) => [u.name, u]));
  const keysUnread = (name: string) => users.get(name)?.reportedKeys !== undefined;
  return {
    keys: new Set([...closed.users].filter(keysUnread)),
    credentials: new Set(coarse.users.filter((u) => named(held)(u) && u.credentials === undefined).map((u) => u.name)),
    secrets: new Set(coarse.secrets.filter((s) => closed.secrets.has(s.arn) && s.heldAccessKeyId === undefined).map((s) => s.arn)),
  };
}

/** A user the report names, not read one by one: its keys and console password as the report has them. */
function userFromReport(user: UserSnapshot, row: CredentialReportRow | undefined): UserSnapshot {
  return row ? { ...user, reportedKeys: reportedKeysOf(row), loginProfile: row.passwordEnabled } : user;
}

function partlyFromReport(bulk: BulkRead, detail: Detail, report: ReadonlyMap<string, CredentialReportRow>): Snapshot {
  return { ...withDetail(bulk, detail, report, (user) => userFromReport(user, report.get(user.name))), detailFromReport: true };
}

function mergeDetail(a: Detail, b: Detail): Detail {
  return { keys: new Map([...a.keys, ...b.keys]), credentials: new Map([...a.credentials, ...b.credentials]), held: new Map([...a.held, ...b.held]) };
}
