import { SESv2Client } from '@aws-sdk/client-sesv2';
import type { JsonObject } from '../domain/plan-model.js';
import { toJsonObject } from '../domain/plan-schema.js';
import { describeError } from '../domain/reasons.js';
import { sendEmail } from '../notifications/email.js';
import { findingsDigestEmail, findingsDigests } from '../notifications/findings-digest.js';
import type { Runtime } from './runtime.js';

let ses: SESv2Client | undefined;

/**
 * Sends every finding of a change's plan to its reason code's route (policy.routes): one digest
 * email per route, naming each NHI, the finding and what to do. Returns FINDINGS_ROUTED's data
 * (per route: address, count, codes, delivered), or null when the plan has no routed finding.
 * Never fails the caller: an email that cannot be sent is reported as not delivered.
 */
export async function routeFindings(rt: Runtime, input: { changeId: string; trigger: string; status: string; planHash?: string }): Promise<JsonObject | null> {
  if (!input.planHash) return null;
  try {
    const plan = await rt.loadPlan(input.planHash);
    const { policy } = await rt.loadPolicy();
    const digests = findingsDigests(policy, plan.findings);
    if (digests.length === 0) return null;
    const from = rt.env.NHIGOV_SES_SENDER;
    ses ??= new SESv2Client({});
    const client = ses;
    const routes = [];
    for (const digest of digests) {
      const summary = { route: digest.route, to: digest.email, count: digest.findings.length, reasonCodes: [...new Set(digest.findings.map((f) => f.reasonCode))], nhis: [...new Set(digest.findings.map((f) => f.nhi))] };
      if (!from) {
        routes.push({ ...summary, delivered: false, error: 'NHIGOV_SES_SENDER is not set' });
        continue;
      }
      try {
        await sendEmail(client, { from, to: [digest.email], ...findingsDigestEmail(input.changeId, input.trigger, input.status, digest) });
        routes.push({ ...summary, delivered: true });
      } catch (error) {
        routes.push({ ...summary, delivered: false, error: describeError(error) });
      }
    }
    return toJsonObject({ findings: plan.findings.length, routes });
  } catch (error) {
    rt.logger.error('findings not routed', { changeId: input.changeId, error: describeError(error) });
    return toJsonObject({ routes: [], error: describeError(error) });
  }
}
