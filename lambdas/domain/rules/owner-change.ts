import type { z } from 'zod';
import type { ownerChangedDetail } from '../events.js';
import { ownerOf } from '../snapshot.js';
import { finding, type RuleContext, type RuleOutput } from './context.js';
import { moveOwnerIntent } from './intents.js';

type OwnerChangedDetail = z.infer<typeof ownerChangedDetail>;

/**
 * Owner Changed: the owner tag moves from `fromEmail` to `toEmail`, only if the NHI's current
 * owner is `fromEmail`. Another current owner means the event and the estate disagree: reported,
 * nothing moved (the last word on ownership is not a stale HR event's).
 */
export function ownerChangeRule(ctx: RuleContext, detail: OwnerChangedDetail): RuleOutput {
  const nhi = ctx.estate.resolve(detail.nhi, 'nhi');
  if (!nhi) {
    return { intents: [], findings: [{ nhi: detail.nhi, reasonCode: 'TARGET_NOT_FOUND', message: `no governed user, role or secret is named ${detail.nhi}` }] };
  }
  const current = ownerOf(nhi);
  if (current === detail.toEmail) return { intents: [], findings: [] };
  if (current !== detail.fromEmail) {
    const message = `owner is ${current ?? 'not set'}, not ${detail.fromEmail} as the event says: the owner tag was not moved to ${detail.toEmail}`;
    return { intents: [], findings: [finding(ctx, nhi, 'OWNER_CHANGED', message, { currentOwner: current, fromEmail: detail.fromEmail, toEmail: detail.toEmail })] };
  }
  return { intents: [moveOwnerIntent(ctx, nhi, detail.toEmail, 'OWNER_CHANGED')], findings: [] };
}
