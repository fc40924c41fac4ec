import { readSnapshot } from '../connectors/snapshot-reader.js';
import { governedAccounts } from '../domain/accounts.js';
import type { GovernancePolicy } from '../domain/policy.js';
import { AppError } from '../domain/reasons.js';
import { readAccountEstates, type AccountEstates } from './core/account-estates.js';
import type { Runtime } from './runtime.js';

/**
 * What a campaign asks about: every governed account's NHIs (the stack's own first), read in bulk
 * with the read side's credentials, a few accounts at a time (readAccountEstates), the member role
 * assumed with the campaign id as the session name (the member account's CloudTrail names the
 * campaign). A member account whose role is missing or refuses is returned as unreadable and the
 * others are asked; the stack's own account failing fails the campaign. Without a known home
 * account the function knows only its own: a policy governing member accounts is then refused
 * rather than half asked.
 */
export async function readCampaignEstates(rt: Pick<Runtime, 'home' | 'sessions' | 'connectors'>, policy: GovernancePolicy, campaignId: string): Promise<AccountEstates> {
  // Owner tags and ARNs are all a campaign needs: the bulk pages, nothing per identity.
  const bulkOnly = { nhis: [] };
  if (!rt.home) {
    if ((policy.accounts ?? []).length > 0) throw new AppError('INPUT_INVALID', 'the policy governs member accounts but the attestation function was deployed without NHIGOV_ACCOUNT_ID');
    return { estates: [{ snapshot: await readSnapshot(rt.connectors, bulkOnly) }], unreadable: [] };
  }
  return readAccountEstates(rt.sessions, governedAccounts(policy, rt.home), campaignId, (ctx) => readSnapshot(ctx, bulkOnly));
}
