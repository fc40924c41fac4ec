import type { GovernancePolicy } from '../policy.js';
import type { ActionIntent } from '../plan-builder.js';
import type { ActionKindCatalog, JsonObject, PlanFinding } from '../plan-model.js';
import type { ReasonCode } from '../reasons.js';
import type { NhiSnapshot } from '../snapshot.js';
import type { Estate } from './estate.js';

/** What every rule gets: the policy, the estate, the clock, and the action kinds' pure parts. */
export interface RuleContext {
  readonly policy: GovernancePolicy;
  readonly changeId: string;
  /** When the plan is made: cut-offs of revocations and rotations. */
  readonly now: Date;
  /** When thresholds are evaluated (Reconcile's asOf, else now). */
  readonly asOf: Date;
  readonly estate: Estate;
  readonly catalog: ActionKindCatalog;
  /** User name → the secret whose rotation in this plan takes that user's one free key slot. */
  readonly keySlotsTaken: Map<string, string>;
}

export interface RuleOutput {
  readonly intents: ActionIntent[];
  readonly findings: PlanFinding[];
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** true when `since` lies more than `days` days before `at`. */
export function olderThan(since: string, days: number, at: Date): boolean {
  return at.getTime() - Date.parse(since) > days * DAY_MS;
}

export function finding(ctx: RuleContext, nhi: NhiSnapshot, reasonCode: ReasonCode, message: string, data?: JsonObject): PlanFinding {
  return { nhi: ctx.estate.ref(nhi), reasonCode, message, ...(data ? { data } : {}) };
}

/** The state an action kind reads from the snapshot (null when the snapshot cannot tell). */
export function stateOf(ctx: RuleContext, kind: string, params: JsonObject): JsonObject | null {
  return ctx.catalog.get(kind)?.beforeFromSnapshot(params, ctx.estate.snapshot) ?? null;
}
