import { z } from 'zod';
import { formatIssues, type GovernanceEvent, type SignalCause } from '../events.js';

/** An EventBridge event as a provider sends it: the envelope every mapping starts from. */
export const providerEnvelope = z.looseObject({
  id: z.string().min(1).max(256),
  source: z.string().min(1).max(256),
  'detail-type': z.string().min(1).max(256),
  account: z.string().optional(),
  time: z.string().optional(),
  detail: z.unknown(),
});
export type ProviderEnvelope = z.infer<typeof providerEnvelope>;

/** What one provider event comes to: one or more triggers, nothing (with why), or a refusal. */
export type SignalResult =
  | { readonly outcome: 'triggers'; readonly triggers: readonly GovernanceEvent[] }
  | { readonly outcome: 'ignored'; readonly reason: string }
  | { readonly outcome: 'invalid'; readonly error: string };

/** Which bus a rule listens on: AWS service events arrive on the default bus, producers' on the governance bus, Okta's on its partner bus. */
export type RuleBus = 'default' | 'governance' | 'okta';

export interface SignalSource {
  /** The rule id (infra/resources.ts EVENT_RULES). */
  readonly id: string;
  readonly name: string;
  readonly bus: RuleBus;
  /** The EventBridge pattern of its rule, in wire form. */
  readonly pattern: Readonly<Record<string, unknown>>;
  readonly detailType: string;
  /** Whether this mapping speaks for the envelope's source and detail-type. */
  matches(source: string, detailType: string): boolean;
  toTriggers(envelope: ProviderEnvelope, context?: SignalContext): SignalResult;
}

/** What a mapping may need to know of the deployment (ingest reads it from its environment). */
export interface SignalContext {
  /** The workflow's own roles (its connector write role): their calls are not changes made around it. */
  readonly workflowRoleArns?: readonly string[];
  /** The member roles' names: in a member account, calls made through them are the workflow's. */
  readonly memberRoleNames?: readonly string[];
  /** The stack's own account: no member role acts there. */
  readonly homeAccountId?: string;
}

export function invalid(error: z.ZodError, where = 'detail'): SignalResult {
  return { outcome: 'invalid', error: `${where}: ${formatIssues(error)}` };
}

export function ignored(reason: string): SignalResult {
  return { outcome: 'ignored', reason };
}

export function triggers(list: readonly GovernanceEvent[]): SignalResult {
  return { outcome: 'triggers', triggers: list };
}

export function causeOf(envelope: ProviderEnvelope, fields: Omit<SignalCause, 'source' | 'detailType' | 'eventId'>): SignalCause {
  const account = envelope.account !== undefined && /^\d{12}$/.test(envelope.account) ? { account: envelope.account } : {};
  return { source: envelope.source, detailType: envelope['detail-type'], eventId: envelope.id, ...account, ...fields };
}

/** An ISO time from a provider, kept only when it is one (Health's startTime is an HTTP date). */
export function isoOrUndefined(value: string | undefined): string | undefined {
  return value !== undefined && z.iso.datetime({ offset: true }).safeParse(value).success ? value : undefined;
}
