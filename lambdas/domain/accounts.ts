/**
 * Member accounts: the names the hub and the member stack agree on. The hub's connector roles
 * assume `arn:PARTITION:iam::ACCOUNT:role/ROLE_NAME` in each governed member account; the member
 * role trusts only hub roles under CONNECTOR_ROLE_PATH, and a read-side hub role may assume it only
 * with READ_ONLY_SOURCE_IDENTITY, under which the member role denies every write.
 */
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

export function isAccountId(value: string): boolean {
  return ACCOUNT_ID.test(value);
}
