import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ACTION_CATALOG } from '../lambdas/connectors/registry.js';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@smithy/types';
import { readSnapshot } from '../lambdas/connectors/snapshot-reader.js';
import type { ConnectorContext } from '../lambdas/connectors/types.js';
import { changeIdForEvent, parseGovernanceEvent, type GovernanceEvent } from '../lambdas/domain/events.js';
import { planChange } from '../lambdas/domain/plan.js';
import type { Plan } from '../lambdas/domain/plan-model.js';
import type { SignedPolicy } from '../lambdas/domain/policy-signature.js';
import type { Snapshot } from '../lambdas/domain/snapshot.js';
import { snapshotScopeFor } from '../lambdas/domain/snapshot-scope.js';
import { readPlanningSnapshot } from '../lambdas/handlers/core/planning-read.js';
import { LOCAL_ACCOUNT_ID, LOCAL_CREDENTIALS, type AwsClients } from '../local/aws-clients.js';
import type { TestStack } from '../test/support/local-stack.js';
import { printFigure, readGatewayStats, resetGatewayStats, withStack, type GatewayStats } from './support.js';

/**
 * AWS calls per NHI to PLAN a change on the local stack, counted by the gateway: the plan
 * handler's read (readPlanningSnapshot: for a reconcile of everything, bulk pages and the
 * credential report, then per identity only what may need an action) then the pure planner, for
 * - a full reconcile of a 1,000-NHI estate (goal ≤ 2 per NHI, against the ≥ 6 per identity a
 *   per-resource refresh needs: GetUser, ListAccessKeys, ListUserTags, ListAttachedUserPolicies,
 *   ListUserPolicies, ListGroupsForUser, ...);
 * - the termination of one owner of 10 NHIs in that same estate (calls grow with the NHIs the
 *   person owns, not with the estate, beyond the bulk pages);
 * - a reconcile of 5 accounts × 1,000 NHIs where one NHI in ten needs an action (goal ≤ 0.2 per
 *   NHI, the member roles assumed counted), against the full read of before.
 */
export const CALLS_BENCH_NHIS = 1_000;
export const CALLS_BENCH_OWNED = 10;
export const CALLS_BENCH_GOAL_PER_NHI = 2;
const PER_RESOURCE_REFRESH_PER_IDENTITY = 6;
const SEED_BATCH = 25;
/** Calls to these services are the reads of targets (and the role assumed into a member account); the rest (DynamoDB, SQS, ...) is the stack's own traffic. */
const TARGET_SERVICES = ['iam', 'secretsmanager', 'sts'] as const;
const REGION = 'us-east-1';
/** The multi-account figure: the hub (moto's default account) and 4 members, reached through a member role (moto: any role ARN, the role need not exist). */
const MEMBER_ACCOUNTS = ['111111111111', '222222222222', '333333333333', '444444444444'] as const;
const MEMBER_ROLE = 'nhigov-member';
export const ACCOUNTS_GOAL_PER_NHI = 0.2;
/** Per account, the users whose keys go unused: one NHI in ten (50 with 1 key, 50 with 2). */
const IDLE_USERS = { users1: 50, users2: 50 } as const;
/** Between the idle keys and the others: the plan's asOf falls in its middle, so report dates (to the second) fall on the right side. */
const IDLE_GAP_MS = 4_000;

interface EstateMix {
  users1: number;
  users2: number;
  roles: number;
  secrets: number;
}

/** 1,000 NHIs: 300 users with 1 key, 250 with 2, 300 roles, 150 key secrets; the bench owner's 10 are among them. */
const ESTATE: EstateMix = { users1: 300, users2: 250, roles: 300, secrets: 150 };
/** The terminated owner's 10: 2 users with 1 key, 2 with 2, 3 roles, 3 key secrets (holding keys of their users). */
const OWNED: EstateMix = { users1: 2, users2: 2, roles: 3, secrets: 3 };


const governedTags = (owner: string | null) => [{ Key: 'nhi-governed', Value: 'true' }, ...(owner ? [{ Key: 'owner', Value: owner }] : []), { Key: 'env', Value: 'dev' }];

async function inBatches<T>(items: readonly T[], run: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += SEED_BATCH) await Promise.all(items.slice(i, i + SEED_BATCH).map(run));
}

interface SeededKey {
  readonly AccessKeyId: string;
  readonly SecretAccessKey: string;
}

interface SeededUser {
  readonly name: string;
  readonly owner: string;
  readonly key: SeededKey;
}

/** Seeds `mix` governed NHIs straight into moto; owners cycle through `owners`. Returns how many NHIs it made, and every access key. */
async function seed(direct: Pick<AwsClients, 'iam' | 'secrets'>, prefix: string, mix: EstateMix, owners: readonly string[]): Promise<{ count: number; keys: SeededKey[] }> {
  const ownerAt = (i: number) => owners[i % owners.length] ?? null;
  const userSpecs = [...Array.from({ length: mix.users1 }, () => 1), ...Array.from({ length: mix.users2 }, () => 2)].map((keys, i) => ({ name: `${prefix}-u${i}`, keys, owner: ownerAt(i) }));
  const users: SeededUser[] = [];
  const keys: SeededKey[] = [];
  await inBatches(userSpecs, async (spec) => {
    await direct.iam.send(new CreateUserCommand({ UserName: spec.name, Tags: governedTags(spec.owner) }));
    for (let k = 0; k < spec.keys; k += 1) {
      const out = await direct.iam.send(new CreateAccessKeyCommand({ UserName: spec.name }));
      const key = { AccessKeyId: out.AccessKey?.AccessKeyId ?? '', SecretAccessKey: out.AccessKey?.SecretAccessKey ?? '' };
      keys.push(key);
      if (k === 0) users.push({ name: spec.name, owner: spec.owner ?? '', key });
    }
  });
  const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
  await inBatches(
    Array.from({ length: mix.roles }, (_, i) => i),
    async (i) => {
      await direct.iam.send(new CreateRoleCommand({ RoleName: `${prefix}-r${i}`, AssumeRolePolicyDocument: trust, Tags: governedTags(ownerAt(i)) }));
    },
  );
  // Each key secret holds the first key of one of the seeded users, with that user's owner.
  const holders = [...users].sort((a, b) => a.name.localeCompare(b.name)).slice(0, mix.secrets);
  if (holders.length < mix.secrets) throw new Error('more key secrets than users to hold keys of');
  await inBatches(holders, async (user) => {
    await direct.secrets.send(
      new CreateSecretCommand({
        Name: `${user.name}-key`,
        SecretString: JSON.stringify(user.key),
        Tags: [...governedTags(user.owner || null), { Key: 'nhigov:kind', Value: 'iam-access-key' }, { Key: 'nhigov:user', Value: user.name }],
      }),
    );
  });
  return { count: userSpecs.length + mix.roles + holders.length, keys };
}

function gatewayConnectors(endpoint: string, now: Date, credentials: AwsCredentialIdentity = LOCAL_CREDENTIALS): ConnectorContext {
  // As the plan handler's connectors (createConnectorContext): one attempt per call, so the counts are the calls made.
  const config = { endpoint, region: REGION, credentials, maxAttempts: 1 };
  return { iam: new IAMClient(config), secrets: new SecretsManagerClient(config), now: () => now };
}

function parsed(raw: unknown): GovernanceEvent {
  const result = parseGovernanceEvent(raw);
  if (!result.ok) throw new Error(result.error);
  return result.event;
}

interface Counted {
  readonly targetCalls: number;
  readonly otherCalls: number;
  readonly byAction: ReadonlyArray<[string, number]>;
}

interface Measured extends Counted {
  readonly actions: number;
  readonly findings: number;
  /** Read and plan, as the plan handler runs them. */
  readonly planMs: number;
  /** kind and target of every action, sorted: plans from different reads compare equal when they act alike. */
  readonly targets: readonly string[];
}

function counted(stats: GatewayStats): Counted {
  const byAction: Array<[string, number]> = [];
  let otherCalls = 0;
  for (const [service, actions] of Object.entries(stats.aws)) {
    for (const [action, count] of Object.entries(actions)) {
      if ((TARGET_SERVICES as readonly string[]).includes(service)) byAction.push([`${service}:${action}`, count]);
      else otherCalls += count;
    }
  }
  byAction.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return { targetCalls: byAction.reduce((sum, [, n]) => sum + n, 0), otherCalls, byAction };
}

function sumCounted(all: readonly Counted[]): Counted {
  const byAction = new Map<string, number>();
  for (const m of all) for (const [action, n] of m.byAction) byAction.set(action, (byAction.get(action) ?? 0) + n);
  return {
    targetCalls: all.reduce((n, m) => n + m.targetCalls, 0),
    otherCalls: all.reduce((n, m) => n + m.otherCalls, 0),
    byAction: [...byAction].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])),
  };
}

/** How a plan is read: the two-pass planning read (the plan handler's), or readSnapshot over the event's whole scope (before issue 16). */
type ReadMode = 'planning' | 'full';

interface AccountUnderTest {
  readonly account: string;
  /** null: the hub's own account, read with its own credentials; else the member role to assume. */
  readonly roleArn: string | null;
}

/**
 * The plan handler's planning in one account, counted by the gateway: assume the member role (a
 * member account), read, plan. The read is the planning read, or the old full read.
 */
async function measure(endpoint: string, signed: SignedPolicy, event: GovernanceEvent, mode: ReadMode, where: AccountUnderTest = { account: LOCAL_ACCOUNT_ID, roleArn: null }): Promise<Measured> {
  const now = new Date();
  await resetGatewayStats(endpoint);
  const started = Date.now();
  const credentials = where.roleArn ? await assumeRole(endpoint, where.roleArn) : LOCAL_CREDENTIALS;
  const connectors = gatewayConnectors(endpoint, now, credentials);
  const member = where.roleArn !== null;
  const planOn = (snapshot: Snapshot): Plan =>
    planChange({ changeId: changeIdForEvent(event.id), policy: signed.policy, policyVersion: signed.version, event, estates: [{ snapshot, account: where.account, member }], now, catalog: ACTION_CATALOG });
  const snapshot = mode === 'planning' ? await readPlanningSnapshot(connectors, event, planOn) : await readSnapshot(connectors, snapshotScopeFor(event));
  const plan = planOn(snapshot);
  const planMs = Date.now() - started;
  const stats = await readGatewayStats(endpoint);
  const targets = plan.actions.map((a) => `${a.kind} ${a.target.id}`).sort();
  return { ...counted(stats), actions: plan.actions.length, findings: plan.findings.length, planMs, targets };
}

async function assumeRole(endpoint: string, roleArn: string): Promise<AwsCredentialIdentity> {
  const sts = new STSClient({ endpoint, region: REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
  const out = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'nhigov-bench' }));
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error(`assuming ${roleArn} gave no credentials`);
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}) };
}

function printBreakdown(m: Counted): void {
  for (const [action, count] of m.byAction) printFigure(`    ${action}`, String(count));
  if (m.otherCalls) printFigure('  (not counted: other services during the read)', String(m.otherCalls));
}

export async function runCallsBench(): Promise<void> {
  await withStack(async (stack) => {
    const ctx = await stack.context();

    const run = randomUUID().slice(0, 6);
    const terminated = `bench-terminated-${run}@example.com`;
    const others = Array.from({ length: 50 }, (_, i) => `bench-owner${i}-${run}@example.com`);
    const seedStarted = Date.now();
    const ownedCount = (await seed(stack.direct, `bt-${run}`, OWNED, [terminated])).count;
    const rest: EstateMix = { users1: ESTATE.users1 - OWNED.users1, users2: ESTATE.users2 - OWNED.users2, roles: ESTATE.roles - OWNED.roles, secrets: ESTATE.secrets - OWNED.secrets };
    const restCount = (await seed(stack.direct, `be-${run}`, rest, others)).count;
    const estateCount = ownedCount + restCount;
    if (ownedCount !== CALLS_BENCH_OWNED || estateCount !== CALLS_BENCH_NHIS) throw new Error(`seeded ${estateCount} NHIs (${ownedCount} owned), expected ${CALLS_BENCH_NHIS} (${CALLS_BENCH_OWNED})`);
    printFigure('estate seeded into moto (NHIs)', `${estateCount} (${ESTATE.users1 + ESTATE.users2} users: ${ESTATE.users1} with 1 key, ${ESTATE.users2} with 2; ${ESTATE.roles} roles; ${ESTATE.secrets} key secrets) in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s`);

    // The active, verified policy, loaded before counting (the handler's policy read is DynamoDB, not a target read).
    const signed = await ctx.policies.loadVerified(ctx.outputs.policyPublicKeyPem);

    // Reconcile all, as of 100 days ahead: every key is past the thresholds, so the plan is a full one.
    const asOf = new Date(Date.now() + 100 * 86_400_000).toISOString();
    const reconcileEvent = parsed({ id: `bench-reconcile-${run}`, source: 'nhigov', 'detail-type': 'Reconcile Requested', detail: { scope: 'all', asOf } });
    const reconcile = await measure(stack.endpoint, signed, reconcileEvent, 'planning');
    const full = await measure(stack.endpoint, signed, reconcileEvent, 'full');
    const perNhi = reconcile.targetCalls / estateCount;
    printFigure(`reconcile all, ${estateCount} NHIs: AWS calls to plan`, `${reconcile.targetCalls} (read and plan ${(reconcile.planMs / 1000).toFixed(1)} s; plan: ${reconcile.actions} actions, ${reconcile.findings} findings)`);
    printFigure('reconcile all: AWS calls per NHI', `${perNhi.toFixed(2)} (goal ≤ ${CALLS_BENCH_GOAL_PER_NHI}: ${perNhi <= CALLS_BENCH_GOAL_PER_NHI ? 'met' : 'NOT met'})`);
    printFigure('  the full read instead (readSnapshot all)', `${(full.targetCalls / estateCount).toFixed(2)} per NHI, ${(full.planMs / 1000).toFixed(1)} s; same actions: ${sameActions(reconcile, full)}`);
    printFigure('per-resource refresh, for comparison (calls per identity)', `≥ ${PER_RESOURCE_REFRESH_PER_IDENTITY} (≥ ${PER_RESOURCE_REFRESH_PER_IDENTITY * estateCount} calls for this estate)`);
    printFigure('  by action', '');
    printBreakdown(reconcile);

    const termination = await measure(stack.endpoint, signed, parsed({ id: `bench-term-${run}`, source: 'hr.system', 'detail-type': 'Employee Terminated', detail: { employeeId: `e-${run}`, email: terminated } }), 'planning');
    const bulk = termination.byAction.filter(([action]) => action === 'iam:GetAccountAuthorizationDetails' || action === 'secretsmanager:ListSecrets').reduce((sum, [, n]) => sum + n, 0);
    printFigure(`termination of one owner of ${ownedCount} NHIs (estate ${estateCount}): AWS calls`, `${termination.targetCalls} (${bulk} bulk pages + ${termination.targetCalls - bulk} per-identity; plan: ${termination.actions} actions, ${termination.findings} findings)`);
    printFigure('termination: AWS calls per owned NHI', `${(termination.targetCalls / ownedCount).toFixed(2)} (per-identity only: ${((termination.targetCalls - bulk) / ownedCount).toFixed(2)})`);
    printFigure('  by action', '');
    printBreakdown(termination);
  });
  await withStack(runAccountsFigure);
}

function sameActions(a: Measured, b: Measured): string {
  return a.targets.length === b.targets.length && a.targets.every((t, i) => t === b.targets[i]) ? 'yes' : `NO (${a.targets.length} vs ${b.targets.length})`;
}

/**
 * Reconcile all across the hub and 4 member accounts of 1,000 NHIs each, one NHI in ten needing an
 * action: 100 users per account whose keys were never used, the rest used since. Moto cannot
 * backdate a key, so the plan is made as of 90 days after the idle keys were made, plus half the
 * gap (seconds) before the others were made and used: the idle keys are past inactivityDays, every
 * other key and secret is not.
 */
async function runAccountsFigure(stack: TestStack): Promise<void> {
  const ctx = await stack.context();
  const signed = await ctx.policies.loadVerified(ctx.outputs.policyPublicKeyPem);
  const run = randomUUID().slice(0, 6);
  const owners = Array.from({ length: 50 }, (_, i) => `bench-owner${i}-${run}@example.com`);
  const accounts: AccountUnderTest[] = [{ account: LOCAL_ACCOUNT_ID, roleArn: null }, ...MEMBER_ACCOUNTS.map((account) => ({ account, roleArn: `arn:aws:iam::${account}:role/${MEMBER_ROLE}` }))];
  const motoEndpoint = directEndpoint(stack.endpoint);
  const seedStarted = Date.now();
  const clients = await Promise.all(accounts.map((a) => (a.roleArn ? assumeRole(motoEndpoint, a.roleArn).then((c) => seedClients(motoEndpoint, c)) : Promise.resolve(stack.direct))));
  const idle: EstateMix = { users1: IDLE_USERS.users1, users2: IDLE_USERS.users2, roles: 0, secrets: 0 };
  const live: EstateMix = { users1: ESTATE.users1 - idle.users1, users2: ESTATE.users2 - idle.users2, roles: ESTATE.roles, secrets: ESTATE.secrets };
  let seeded = 0;
  for (const c of clients) seeded += (await seed(c, `bi-${run}`, idle, owners)).count;
  const idleMade = Date.now();
  await new Promise((resolve) => setTimeout(resolve, IDLE_GAP_MS));
  const liveMade = Date.now();
  for (const c of clients) {
    const made = await seed(c, `bl-${run}`, live, owners);
    seeded += made.count;
    await inBatches(made.keys, async (key) => {
      // Any call signed with a key is a use of it (moto records it, as IAM does).
      await new STSClient({ endpoint: motoEndpoint, region: REGION, credentials: { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey } }).send(new GetCallerIdentityCommand({}));
    });
  }
  const perAccount = CALLS_BENCH_NHIS;
  if (seeded !== perAccount * accounts.length) throw new Error(`seeded ${seeded} NHIs, expected ${perAccount * accounts.length}`);
  const needing = (idle.users1 + idle.users2) * accounts.length;
  printFigure(`${accounts.length} accounts seeded into moto (NHIs)`, `${seeded} (${perAccount} each; ${needing} need an action: users with keys never used) in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s`);

  const { inactivityDays, maxKeyAgeDays, secretRotationDays } = signed.policy.thresholds;
  if (maxKeyAgeDays < inactivityDays || secretRotationDays < inactivityDays) throw new Error('the figure needs maxKeyAgeDays and secretRotationDays at least inactivityDays');
  const asOf = new Date(idleMade + inactivityDays * 86_400_000 + (liveMade - idleMade) / 2).toISOString();
  const event = parsed({ id: `bench-accounts-${run}`, source: 'nhigov', 'detail-type': 'Reconcile Requested', detail: { scope: 'all', asOf } });
  const byMode = new Map<ReadMode, Measured[]>();
  for (const mode of ['full', 'planning'] as const) {
    const measured: Measured[] = [];
    for (const where of accounts) measured.push(await measure(stack.endpoint, signed, event, mode, where));
    byMode.set(mode, measured);
    const total = sumCounted(measured);
    const perNhi = total.targetCalls / seeded;
    const label = mode === 'planning' ? 'planning read (bulk, report, then detail where needed)' : 'full read (readSnapshot all, before issue 16)';
    printFigure(`reconcile all, ${accounts.length} accounts × ${perAccount} NHIs: ${label}`, '');
    printFigure('  AWS calls per NHI (AssumeRole counted)', `${perNhi.toFixed(3)} (${total.targetCalls} calls${mode === 'planning' ? `; goal ≤ ${ACCOUNTS_GOAL_PER_NHI}: ${perNhi <= ACCOUNTS_GOAL_PER_NHI ? 'met' : 'NOT met'}` : ''})`);
    printFigure('  plan time (read and plan), per account', measured.map((m) => `${(m.planMs / 1000).toFixed(1)} s`).join(', '));
    printFigure('  actions planned', `${measured.reduce((n, m) => n + m.actions, 0)} (per account: ${measured.map((m) => m.actions).join(', ')}); findings ${measured.reduce((n, m) => n + m.findings, 0)}`);
    const full = byMode.get('full');
    if (mode === 'planning' && full) printFigure('  same actions as the full read, per account', measured.map((m, i) => (full[i] ? sameActions(m, full[i]) : 'not measured')).join(', '));
    printFigure('  by action', '');
    printBreakdown(total);
  }
}

/** Moto itself, behind the gateway: NHIGOV_PORT + 1 (seeding is not counted). */
function directEndpoint(gateway: string): string {
  const url = new URL(gateway);
  url.port = String(Number(url.port) + 1);
  return url.origin;
}

function seedClients(endpoint: string, credentials: AwsCredentialIdentity): Pick<AwsClients, 'iam' | 'secrets'> {
  const config = { endpoint, region: REGION, credentials };
  return { iam: new IAMClient(config), secrets: new SecretsManagerClient(config) };
}
