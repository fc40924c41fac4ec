import type { StackContext } from '../cli/lib/context.js';
import { accountOfArn } from '../lambdas/domain/accounts.js';
import { dryRunPlan, readDryRunEstates } from '../cli/lib/dry-run.js';
import { readSnapshot } from '../lambdas/connectors/snapshot-reader.js';
import { parseGovernanceEvent, type GovernanceEvent } from '../lambdas/domain/events.js';
import type { Plan } from '../lambdas/domain/plan-model.js';
import { describeError } from '../lambdas/domain/reasons.js';
import { allNhis, ENV_TAG, ownerOf, type NhiSnapshot, type Snapshot } from '../lambdas/domain/snapshot.js';
import type { HeldState } from '../lambdas/domain/held-states.js';
import { heldStateViews, loadHeldStates, type HeldStateView } from '../cli/lib/held-states.js';

export interface IdentityKey {
  readonly accessKeyId: string;
  readonly status: 'Active' | 'Inactive';
  readonly ageDays: number;
  /** null: never used. */
  readonly lastUsedAt: string | null;
}

/** Something a reconcile would report or do about the NHI now. */
export interface IdentityFinding {
  readonly reasonCode: string;
  readonly message: string;
}

export interface IdentityChange {
  readonly changeId: string;
  readonly status: string;
}

/** Stored plans by hash: a plan never changes, so its cache never goes stale. */
export type PlanCache = Map<string, Plan>;

/** One governed NHI as the Identities page shows it. */
export interface IdentityRow {
  readonly type: NhiSnapshot['type'];
  readonly name: string;
  readonly arn: string;
  /** From the ARN. */
  readonly account: string | null;
  readonly owner: string | null;
  readonly env: string | null;
  /** A user's access keys (empty for roles and secrets). */
  readonly accessKeys: readonly IdentityKey[];
  /** A secret's rotation; null for users and roles. */
  readonly secret: { readonly lastRotatedAt: string | null } | null;
  readonly findings: readonly IdentityFinding[];
  readonly changes: readonly IdentityChange[];
  /** What verified changes left on it, and whether each holds now. */
  readonly held: readonly HeldStateView[];
}

export interface IdentitiesView {
  readonly takenAt: string;
  readonly rows: readonly IdentityRow[];
  /** The dry-run reconcile's policy version; null when it could not run. */
  readonly policyVersion: string | null;
  /** Why the findings are missing (no active, verified policy...); null when they are shown. */
  readonly findingsProblem: string | null;
}

const DAY_MS = 86_400_000;

/** The account id in an ARN (`arn:aws:iam::123456789012:user/x`), null when it has none. */
export const accountOf = accountOfArn;

/** A reconcile of everything, as the daily schedule sends it. */
export function reconcileAllEvent(now: Date): GovernanceEvent {
  const parsed = parseGovernanceEvent({ id: `console-reconcile-${now.getTime()}`, source: 'nhigov', 'detail-type': 'Reconcile Requested', time: now.toISOString(), detail: { scope: 'all' } });
  if (!parsed.ok) throw new Error(`the reconcile event is invalid: ${parsed.error}`);
  return parsed.event;
}

/**
 * The rows of the Identities page, from live state, a dry-run reconcile's plan (its findings and
 * actions name NHIs by name, or by ARN when names are shared) and the changes each NHI was in.
 */
export function identityRows(input: {
  /** The live state of each governed account read (a member account's NHIs are named by ARN only). */
  estates: readonly { readonly snapshot: Snapshot; readonly member?: boolean }[];
  plan: Pick<Plan, 'findings' | 'actions'> | null;
  /** NHI ref (name, or ARN) → the changes whose plan names it, newest first. */
  changesByNhi: ReadonlyMap<string, readonly IdentityChange[]>;
  now: Date;
  /** Every held state of the stack (deriveHeldStates); none when left out. */
  held?: readonly HeldState[];
}): IdentityRow[] {
  return input.estates.flatMap(({ snapshot, member }) => allNhis(snapshot).map((nhi) => identityRow(input, snapshot, nhi, (ref) => ref === nhi.arn || (member !== true && ref === nhi.name))));
}

function identityRow(
  input: Pick<Parameters<typeof identityRows>[0], 'plan' | 'changesByNhi' | 'now' | 'held'>,
  snapshot: Snapshot,
  nhi: NhiSnapshot,
  isThis: (ref: string) => boolean,
): IdentityRow {
  const findings: IdentityFinding[] = [
    ...(input.plan?.findings ?? []).filter((f) => isThis(f.nhi)).map((f) => ({ reasonCode: f.reasonCode, message: f.message })),
    ...(input.plan?.actions ?? []).filter((a) => isThis(a.target.nhi)).map((a) => ({ reasonCode: a.finding, message: `a reconcile would run ${a.kind} on ${a.target.type} ${a.target.id}` })),
  ];
  return {
    type: nhi.type,
    name: nhi.name,
    arn: nhi.arn,
    account: accountOf(nhi.arn),
    owner: ownerOf(nhi),
    env: nhi.tags[ENV_TAG] || null,
    accessKeys:
      nhi.type === 'user'
        ? nhi.accessKeys.map((k) => ({ accessKeyId: k.accessKeyId, status: k.status, ageDays: Math.max(0, Math.floor((input.now.getTime() - Date.parse(k.createdAt)) / DAY_MS)), lastUsedAt: k.lastUsedAt }))
        : [],
    secret: nhi.type === 'secret' ? { lastRotatedAt: nhi.lastRotatedAt } : null,
    findings,
    changes: [...(isThis(nhi.name) ? (input.changesByNhi.get(nhi.name) ?? []) : []), ...(input.changesByNhi.get(nhi.arn) ?? [])],
    held: heldStateViews(input.held ?? [], snapshot, nhi),
  };
}

/**
 * Every governed NHI (tag nhi-governed=true) read live, read-only: the snapshot the planner
 * reads, the findings of a dry-run reconcile (nothing is written), and the changes (and
 * rollbacks) whose plan acts on or reports each NHI, pending ones included.
 */
export async function readIdentities(ctx: StackContext, now: Date, plans: PlanCache = new Map()): Promise<IdentitiesView> {
  const event = reconcileAllEvent(now);
  const signed = await ctx.policies.loadVerified(ctx.outputs.policyPublicKeyPem).catch(() => null);
  // Without a verified policy only the stack's own account is known to be governed.
  const read = signed
    ? await readDryRunEstates(ctx, signed.policy, event, now, (connectors) => readSnapshot(connectors, { all: true }))
    : { estates: [{ snapshot: await readSnapshot({ iam: ctx.clients.iam, secrets: ctx.clients.secrets, now: () => now }, { all: true }) }], unreadable: [] };
  const [changesByNhi, held] = await Promise.all([changesByNhiRef(ctx, plans), loadHeldStates(ctx)]);
  const reconcile = await dryRunPlan(ctx, event, now, read).then(
    (plan) => ({ plan, problem: null }),
    (error: unknown) => ({ plan: null, problem: describeError(error) }),
  );
  return {
    takenAt: read.estates[0]?.snapshot.takenAt ?? now.toISOString(),
    rows: identityRows({ estates: read.estates, plan: reconcile.plan, changesByNhi, now, held }),
    policyVersion: reconcile.plan?.policyVersion ?? null,
    findingsProblem: reconcile.problem,
  };
}

/** NHI ref → the changes whose plan names it (in an action's target or a finding), newest first. */
async function changesByNhiRef(ctx: StackContext, plans: PlanCache): Promise<Map<string, IdentityChange[]>> {
  const records = [...(await ctx.changes.list('change', 1000)), ...(await ctx.changes.list('rollback', 1000))].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const planned = await Promise.all(
    records.map(async (record) => {
      const hash = record.planHash;
      if (!hash) return { record, plan: null };
      let plan = plans.get(hash) ?? null;
      if (!plan) {
        plan = await ctx.plans.get(hash).catch(() => null);
        if (plan) plans.set(hash, plan);
      }
      return { record, plan };
    }),
  );
  const byRef = new Map<string, IdentityChange[]>();
  for (const { record, plan } of planned) {
    if (!plan) continue;
    const refs = new Set([...plan.actions.map((a) => a.target.nhi), ...plan.findings.map((f) => f.nhi)]);
    for (const ref of refs) byRef.set(ref, [...(byRef.get(ref) ?? []), { changeId: record.changeId, status: record.status }]);
  }
  return byRef;
}
