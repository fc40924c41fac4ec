/**
 * Member accounts: the names the hub and the member stack agree on. The hub's connector roles
 * assume `arn:PARTITION:iam::ACCOUNT:role/ROLE_NAME` in each governed member account; the member
 * role trusts only hub roles under CONNECTOR_ROLE_PATH, and a read-side hub role may assume it only
 * with READ_ONLY_SOURCE_IDENTITY, under which the member role denies every write.
 */
import type { GovernancePolicy } from './policy.js';
import { AppError } from './reasons.js';

/** The member role's name when the policy's `accounts` entry gives none. */
export const DEFAULT_MEMBER_ROLE_NAME = 'nhigov-member';

/** IAM path of the hub roles that act through connectors: write side and read side. */
export const CONNECTOR_ROLE_PATH = {
  readWrite: '/nhigov-connector/write/',
  read: '/nhigov-connector/read/',
} as const;

/** Source identity a read-side hub role must set when it assumes a member role (sts:SourceIdentity). */
export const READ_ONLY_SOURCE_IDENTITY = 'nhigov-read-only';

const ACCOUNT_ID = /^\d{12}$/;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

/** The member role a connector assumes in `accountId`. */
export function memberRoleArn(partition: string, accountId: string, roleName: string = DEFAULT_MEMBER_ROLE_NAME): string {
  if (!ACCOUNT_ID.test(accountId)) throw new AppError('INPUT_INVALID', `account id "${accountId}" is not 12 digits`);
  if (!ROLE_NAME.test(roleName)) throw new AppError('INPUT_INVALID', `role name "${roleName}" is not a valid IAM role name`);
  return `arn:${partition}:iam::${accountId}:role/${roleName}`;
}

/** Where the stack runs: its own account is always governed, and connectors act there without assuming a role. */
export interface HomeAccount {
  readonly id: string;
  readonly partition: string;
}

/** A governed account and the role connectors assume in it (null: the stack's own account). */
export interface GovernedAccount {
  readonly id: string;
  readonly roleArn: string | null;
}

/** The stack's own account first, then the policy's member accounts in policy order. */
export function governedAccounts(policy: Pick<GovernancePolicy, 'accounts'>, home: HomeAccount): GovernedAccount[] {
  const members = (policy.accounts ?? []).filter((a) => a.id !== home.id).map((a) => ({ id: a.id, roleArn: memberRoleArn(home.partition, a.id, a.roleName) }));
  return [{ id: home.id, roleArn: null }, ...members];
}

/** The governed account `accountId`, or an error naming it when the policy does not govern it. */
export function governedAccount(policy: Pick<GovernancePolicy, 'accounts'>, home: HomeAccount, accountId: string): GovernedAccount {
  const found = governedAccounts(policy, home).find((a) => a.id === accountId);
  if (!found) throw new AppError('CONNECTOR_ACCESS_DENIED', `account ${accountId} is not governed by this policy (add it under "accounts")`, { details: { account: accountId } });
  return found;
}

/** The account id in an ARN (arn:aws:iam::123456789012:user/x), or null when it is not an ARN with one. */
export function accountOfArn(ref: string): string | null {
  if (!ref.startsWith('arn:')) return null;
  const account = ref.split(':')[4] ?? '';
  return ACCOUNT_ID.test(account) ? account : null;
}

/** The partition of a region: aws-cn in China, aws-us-gov in GovCloud, aws elsewhere. */
export function partitionOfRegion(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** A target in words: `accessKey AKIA… in account 111111111111` (the account when the plan names one). */
export function targetLabel(target: { readonly type: string; readonly id: string; readonly account?: string }): string {
  return `${target.type} ${target.id}${target.account ? ` in account ${target.account}` : ''}`;
}
