import type { AccountSessions } from '../../connectors/account-sessions.js';
import type { ConnectorContext } from '../../connectors/types.js';
import { governedAccounts, type GovernedAccount, type HomeAccount } from '../../domain/accounts.js';
import { accountsForEvent } from '../../domain/event-accounts.js';
import type { GovernanceEvent } from '../../domain/events.js';
import type { Plan } from '../../domain/plan-model.js';
import type { AccountEstate, UnreadableAccount } from '../../domain/plan.js';
import type { GovernancePolicy } from '../../domain/policy.js';
import { AppError, isAppError } from '../../domain/reasons.js';
import type { Snapshot } from '../../domain/snapshot.js';
import { mapBounded } from '../../lib/map-bounded.js';
import { readExposedKeySnapshot, readPlanningSnapshot, unnamedExposedKey } from './planning-read.js';

/** Accounts read at once: each read is itself a few paginated bulk calls, within its own account's throttle. */
const ACCOUNTS_IN_PARALLEL = 4;

/** Reads one account's estate; null when the trigger has nothing in that account (an exposed key it does not hold). */
export type AccountReader = (ctx: ConnectorContext, account: GovernedAccount) => Promise<Snapshot | null>;

export interface AccountEstates {
  readonly estates: AccountEstate[];
  readonly unreadable: UnreadableAccount[];
}

/**
 * Reads every account in `accounts` (the stack's own first), a few at a time, with the read side's
 * credentials: the member role assumed as read-only, the session named `sessionName` (the change
 * id). A member account whose role is missing or refuses is reported (unreadable) and the others
 * are read; the stack's own account failing fails the read.
 */
export async function readAccountEstates(sessions: AccountSessions, accounts: readonly GovernedAccount[], sessionName: string, read: AccountReader): Promise<AccountEstates> {
  const results = await mapBounded(accounts, ACCOUNTS_IN_PARALLEL, async (account): Promise<AccountEstate | UnreadableAccount | null> => {
    try {
      const ctx = await sessions.contextIn(account, sessionName, 'read');
      const snapshot = await read(ctx, account);
      return snapshot ? { account: account.id, snapshot, member: account.roleArn !== null } : null;
    } catch (error) {
      if (account.roleArn === null || !isAppError(error) || error.reasonCode !== 'CONNECTOR_ACCESS_DENIED') throw error;
      return { account: account.id, roleArn: account.roleArn, message: error.message };
    }
  });
  const estates: AccountEstate[] = [];
  const unreadable: UnreadableAccount[] = [];
  for (const result of results) {
    if (result === null) continue;
    if ('snapshot' in result) estates.push(result);
    else unreadable.push(result);
  }
  return { estates, unreadable };
}

/** How one account's estate is read for a trigger: the planning read (handlers, dry runs) or everything (the console). */
export type EstateRead = (ctx: ConnectorContext, where: Omit<AccountEstate, 'snapshot'>) => Promise<Snapshot>;

/** The planning read (planning-read.ts) of each account, `planOn` planning that account alone to choose what to read one by one. */
export function planningRead(event: GovernanceEvent, planOn: (estate: AccountEstate) => Plan): EstateRead {
  return (ctx, where) => readPlanningSnapshot(ctx, event, (snapshot) => planOn({ ...where, snapshot }));
}

/**
 * The live state of every governed account the trigger concerns (event-accounts.ts), each read with
 * the read side's credentials there. Without a known home account the function knows only its
 * own: a policy governing member accounts is then refused rather than half applied.
 */
export async function readEventEstates(
  rt: { readonly home: HomeAccount | null; readonly sessions: AccountSessions; readonly connectors: ConnectorContext },
  policy: GovernancePolicy,
  changeId: string,
  event: GovernanceEvent,
  read: EstateRead,
): Promise<AccountEstates> {
  if (!rt.home) {
    if ((policy.accounts ?? []).length > 0) throw new AppError('INPUT_INVALID', 'the policy governs member accounts but this function was deployed without NHIGOV_ACCOUNT_ID');
    return { estates: [{ snapshot: await read(rt.connectors, {}) }], unreadable: [] };
  }
  const accounts = accountsForEvent(event, governedAccounts(policy, rt.home));
  const where = (account: GovernedAccount): Omit<AccountEstate, 'snapshot'> => ({ account: account.id, member: account.roleArn !== null });
  const keyId = unnamedExposedKey(event);
  if (keyId === undefined || accounts.length === 1) return readAccountEstates(rt.sessions, accounts, changeId, (ctx, account) => read(ctx, where(account)));
  // A key reported without its user: only the account whose IAM knows the key is read.
  const found = await readAccountEstates(rt.sessions, accounts, changeId, (ctx) => readExposedKeySnapshot(ctx, event, keyId));
  if (found.estates.length > 0 || found.unreadable.length > 0) return found;
  return readAccountEstates(rt.sessions, accounts.slice(0, 1), changeId, (ctx, account) => read(ctx, where(account)));
}
