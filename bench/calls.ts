import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ACTION_CATALOG } from '../lambdas/connectors/registry.js';
import { readSnapshot } from '../lambdas/connectors/snapshot-reader.js';
import type { ConnectorContext } from '../lambdas/connectors/types.js';
import { changeIdForEvent, parseGovernanceEvent, type GovernanceEvent } from '../lambdas/domain/events.js';
import { planChange } from '../lambdas/domain/plan.js';
import { snapshotScopeFor } from '../lambdas/handlers/plan.js';
import { LOCAL_CREDENTIALS, type AwsClients } from '../local/aws-clients.js';
import { printFigure, readGatewayStats, resetGatewayStats, withStack } from './support.js';

/**
 * AWS calls per NHI to PLAN a change on the local stack, counted by the gateway: the plan
 * handler's read (readSnapshot over the event's scope) then the pure planner, for
 * - a full reconcile of a 1,000-NHI estate (goal ≤ 2 per NHI, against the ≥ 6 per identity a
 *   per-resource refresh needs: GetUser, ListAccessKeys, ListUserTags, ListAttachedUserPolicies,
 *   ListUserPolicies, ListGroupsForUser, ...);
 * - the termination of one owner of 10 NHIs in that same estate (calls grow with the NHIs the
 *   person owns, not with the estate, beyond the bulk pages).
 */
export const CALLS_BENCH_NHIS = 1_000;
export const CALLS_BENCH_OWNED = 10;
export const CALLS_BENCH_GOAL_PER_NHI = 2;
const PER_RESOURCE_REFRESH_PER_IDENTITY = 6;
const SEED_BATCH = 25;
/** Calls to these services are the reads of targets; the rest (DynamoDB, SQS, ...) is the stack's own traffic. */
const TARGET_SERVICES = ['iam', 'secretsmanager'] as const;

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

interface SeededUser {
  readonly name: string;
  readonly owner: string;
  readonly key: { AccessKeyId: string; SecretAccessKey: string };
}

/** Seeds `mix` governed NHIs straight into moto; owners cycle through `owners`. Returns how many NHIs it made. */
async function seed(direct: AwsClients, prefix: string, mix: EstateMix, owners: readonly string[]): Promise<number> {
  const ownerAt = (i: number) => owners[i % owners.length] ?? null;
  const userSpecs = [...Array.from({ length: mix.users1 }, () => 1), ...Array.from({ length: mix.users2 }, () => 2)].map((keys, i) => ({ name: `${prefix}-u${i}`, keys, owner: ownerAt(i) }));
  const users: SeededUser[] = [];
  await inBatches(userSpecs, async (spec) => {
    await direct.iam.send(new CreateUserCommand({ UserName: spec.name, Tags: governedTags(spec.owner) }));
    for (let k = 0; k < spec.keys; k += 1) {
      const out = await direct.iam.send(new CreateAccessKeyCommand({ UserName: spec.name }));
      if (k === 0) users.push({ name: spec.name, owner: spec.owner ?? '', key: { AccessKeyId: out.AccessKey?.AccessKeyId ?? '', SecretAccessKey: out.AccessKey?.SecretAccessKey ?? '' } });
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
  return userSpecs.length + mix.roles + holders.length;
}

function gatewayConnectors(endpoint: string, now: Date): ConnectorContext {
  // As the plan handler's connectors (createConnectorContext): one attempt per call, so the counts are the calls made.
  const config = { endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS, maxAttempts: 1 };
  return { iam: new IAMClient(config), secrets: new SecretsManagerClient(config), now: () => now };
}

function parsed(raw: unknown): GovernanceEvent {
  const result = parseGovernanceEvent(raw);
  if (!result.ok) throw new Error(result.error);
  return result.event;
}

interface Measured {
  readonly targetCalls: number;
  readonly otherCalls: number;
  readonly byAction: ReadonlyArray<[string, number]>;
  readonly actions: number;
  readonly findings: number;
  readonly readMs: number;
}

export async function runCallsBench(): Promise<void> {
  await withStack(async (stack) => {
    const ctx = await stack.context();

    const run = randomUUID().slice(0, 6);
    const terminated = `bench-terminated-${run}@example.com`;
    const others = Array.from({ length: 50 }, (_, i) => `bench-owner${i}-${run}@example.com`);
    const seedStarted = Date.now();
    const ownedCount = await seed(stack.direct, `bt-${run}`, OWNED, [terminated]);
    const rest: EstateMix = { users1: ESTATE.users1 - OWNED.users1, users2: ESTATE.users2 - OWNED.users2, roles: ESTATE.roles - OWNED.roles, secrets: ESTATE.secrets - OWNED.secrets };
    const restCount = await seed(stack.direct, `be-${run}`, rest, others);
    const estateCount = ownedCount + restCount;
    if (ownedCount !== CALLS_BENCH_OWNED || estateCount !== CALLS_BENCH_NHIS) throw new Error(`seeded ${estateCount} NHIs (${ownedCount} owned), expected ${CALLS_BENCH_NHIS} (${CALLS_BENCH_OWNED})`);
    printFigure('estate seeded into moto (NHIs)', `${estateCount} (${ESTATE.users1 + ESTATE.users2} users: ${ESTATE.users1} with 1 key, ${ESTATE.users2} with 2; ${ESTATE.roles} roles; ${ESTATE.secrets} key secrets) in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s`);

    // The active, verified policy, loaded before counting (the handler's policy read is DynamoDB, not a target read).
    const signed = await ctx.policies.loadVerified(ctx.outputs.policyPublicKeyPem);

    /** Exactly the plan handler's planning: readSnapshot over the event's scope, then planChange. */
    const measure = async (event: GovernanceEvent): Promise<Measured> => {
      const now = new Date();
      const connectors = gatewayConnectors(stack.endpoint, now);
      await resetGatewayStats(stack.endpoint);
      const started = Date.now();
      const snapshot = await readSnapshot(connectors, snapshotScopeFor(event));
      const readMs = Date.now() - started;
      const stats = await readGatewayStats(stack.endpoint);
      const plan = planChange({ changeId: changeIdForEvent(event.id), policy: signed.policy, policyVersion: signed.version, event, snapshot, now, catalog: ACTION_CATALOG });
      const byAction: Array<[string, number]> = [];
      let otherCalls = 0;
      for (const [service, actions] of Object.entries(stats.aws)) {
        for (const [action, count] of Object.entries(actions)) {
          if ((TARGET_SERVICES as readonly string[]).includes(service)) byAction.push([`${service}:${action}`, count]);
          else otherCalls += count;
        }
      }
      byAction.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
      return { targetCalls: byAction.reduce((sum, [, n]) => sum + n, 0), otherCalls, byAction, actions: plan.actions.length, findings: plan.findings.length, readMs };
    };

    const printBreakdown = (m: Measured) => {
      for (const [action, count] of m.byAction) printFigure(`    ${action}`, String(count));
    };

    // Reconcile all, as of 100 days ahead: every key is past the thresholds, so the plan is a full one.
    const asOf = new Date(Date.now() + 100 * 86_400_000).toISOString();
    const reconcile = await measure(parsed({ id: `bench-reconcile-${run}`, source: 'nhigov', 'detail-type': 'Reconcile Requested', detail: { scope: 'all', asOf } }));
    const perNhi = reconcile.targetCalls / estateCount;
    printFigure(`reconcile all, ${estateCount} NHIs: AWS calls to plan`, `${reconcile.targetCalls} (read ${(reconcile.readMs / 1000).toFixed(1)} s; plan: ${reconcile.actions} actions, ${reconcile.findings} findings)`);
    printFigure('reconcile all: AWS calls per NHI', `${perNhi.toFixed(2)} (goal ≤ ${CALLS_BENCH_GOAL_PER_NHI}: ${perNhi <= CALLS_BENCH_GOAL_PER_NHI ? 'met' : 'NOT met'})`);
    printFigure('per-resource refresh, for comparison (calls per identity)', `≥ ${PER_RESOURCE_REFRESH_PER_IDENTITY} (≥ ${PER_RESOURCE_REFRESH_PER_IDENTITY * estateCount} calls for this estate)`);
    printFigure('  by action', '');
    printBreakdown(reconcile);
    if (reconcile.otherCalls) printFigure('  (not counted: other services during the read)', String(reconcile.otherCalls));

    const termination = await measure(parsed({ id: `bench-term-${run}`, source: 'hr.system', 'detail-type': 'Employee Terminated', detail: { employeeId: `e-${run}`, email: terminated } }));
    const bulk = termination.byAction.filter(([action]) => action === 'iam:GetAccountAuthorizationDetails' || action === 'secretsmanager:ListSecrets').reduce((sum, [, n]) => sum + n, 0);
    printFigure(`termination of one owner of ${ownedCount} NHIs (estate ${estateCount}): AWS calls`, `${termination.targetCalls} (${bulk} bulk pages + ${termination.targetCalls - bulk} per-identity; plan: ${termination.actions} actions, ${termination.findings} findings)`);
    printFigure('termination: AWS calls per owned NHI', `${(termination.targetCalls / ownedCount).toFixed(2)} (per-identity only: ${((termination.targetCalls - bulk) / ownedCount).toFixed(2)})`);
    printFigure('  by action', '');
    printBreakdown(termination);
    if (termination.otherCalls) printFigure('  (not counted: other services during the read)', String(termination.otherCalls));
  });
}
