import type { z } from 'zod';
import type { attestationConcludedDetail } from '../events.js';
import type { ActionIntent } from '../plan-builder.js';
import type { PlanFinding } from '../plan-model.js';
import { ownerOf } from '../snapshot.js';
import { finding, type RuleContext, type RuleOutput } from './context.js';
import { quarantineIntent } from './intents.js';

type AttestationDetail = z.infer<typeof attestationConcludedDetail>;

/**
 * Attestation Concluded: the NHIs of a campaign their owner released (ATTESTATION_DECLINED) or
 * nobody attested (OWNER_UNKNOWN) are disabled reversibly: users and roles get the quarantine
 * deny-all (undone by detaching it). Nothing is written to an NHI that changed hands since the
 * campaign asked (its new owner was not asked), nor to a secret (no connector disables one
 * reversibly: it is reported for a person).
 */
export function attestationRule(ctx: RuleContext, detail: AttestationDetail): RuleOutput {
  const code = detail.reason === 'NOT_NEEDED' ? 'ATTESTATION_DECLINED' : 'OWNER_UNKNOWN';
  const why = detail.reason === 'NOT_NEEDED' ? `${detail.owner ?? 'its owner'} attested it is not theirs or not needed (campaign ${detail.campaignId})` : `nobody attested it in campaign ${detail.campaignId}`;
  const intents: ActionIntent[] = [];
  const findings: PlanFinding[] = [];
  for (const ref of detail.nhis) {
    const nhi = ctx.estate.resolve(ref, 'nhis');
    if (!nhi) {
      findings.push({ nhi: ref, reasonCode: 'TARGET_NOT_FOUND', message: `no governed user, role or secret is named ${ref}` });
      continue;
    }
    const owner = ownerOf(nhi);
    if (owner !== detail.owner) {
      findings.push(finding(ctx, nhi, 'OWNER_CHANGED', `its owner is now ${owner ?? 'unknown'}, not ${detail.owner ?? 'unknown'} whom campaign ${detail.campaignId} asked: nothing is written to it`));
      continue;
    }
    if (nhi.type === 'secret') {
      findings.push(finding(ctx, nhi, code, `${why}; a secret cannot be disabled reversibly by a connector: delete or restrict it by hand`));
      continue;
    }
    intents.push(quarantineIntent(ctx, nhi, code, 'revocation'));
  }
  return { intents, findings };
}
