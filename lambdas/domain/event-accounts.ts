import { accountOfArn, type GovernedAccount } from './accounts.js';
import type { GovernanceEvent } from './events.js';
import { AppError } from './reasons.js';

/** The NHI references a trigger names (names or ARNs); empty when it names none (a termination, a reconcile of all or of an owner). */
function namedRefs(event: GovernanceEvent): string[] {
  switch (event.detailType) {
    case 'Employee Terminated':
      return [];
    case 'Owner Changed':
      return [event.detail.nhi];
    case 'Credential Exposed':
      return [event.detail.nhi, event.detail.secretId].filter((ref): ref is string => ref !== undefined);
    case 'Reconcile Requested':
      return event.detail.scope !== 'all' && 'nhi' in event.detail.scope ? [event.detail.scope.nhi] : [];
    case 'Attestation Concluded':
      return event.detail.nhis;
  }
}

/**
 * The governed accounts a trigger's plan reads (`accounts`: the stack's own first). An NHI named by
 * ARN is in the ARN's account; by name, in the account a provider reported it from (the envelope's
 * `account`, kept as the cause's), else in the stack's own (a member account's NHIs are named by
 * ARN). A trigger naming no NHI (a termination, a reconcile of all or of an owner), or only an
 * access key id (a key id names its account only to IAM), reads every governed account. An ARN
 * in an account the policy does not govern is refused: nothing there may be acted on.
 */
export function accountsForEvent(event: GovernanceEvent, accounts: readonly GovernedAccount[]): GovernedAccount[] {
  const refs = namedRefs(event);
  const home = accounts[0];
  if (!home) throw new AppError('INPUT_INVALID', 'no governed account: the stack\'s own account is always governed');
  // A provider's finding names its NHI, or only its key, in the account it reported from.
  const reportedFrom = event.cause?.account;
  const keyOnly = refs.length === 0 && event.detailType === 'Credential Exposed';
  if (refs.length === 0 && !(keyOnly && reportedFrom)) return [...accounts];
  const wanted = new Set(refs.length === 0 && reportedFrom ? [reportedFrom] : refs.map((ref) => accountOfArn(ref) ?? reportedFrom ?? home.id));
  const ungoverned = [...wanted].filter((id) => !accounts.some((a) => a.id === id));
  if (ungoverned.length > 0) {
    throw new AppError('INPUT_INVALID', `the event names an NHI in account ${ungoverned.join(', ')}, which the policy does not govern (add it under "accounts")`, { details: { accounts: ungoverned } });
  }
  return accounts.filter((a) => wanted.has(a.id));
}
