import { SESv2Client } from '@aws-sdk/client-sesv2';
import type { JsonObject, Plan } from '../domain/plan-model.js';
import { describeError, isAppError, type ReasonCode } from '../domain/reasons.js';
import { sendEmail } from '../notifications/email.js';
import { escalationEmail, escalationRecipients } from '../notifications/escalation-message.js';
import type { Runtime } from './runtime.js';

let ses: SESv2Client | undefined;

/**
 * Emails the owner route of each reason code (policy.routes) that a change ended ESCALATED.
 * Never fails the caller: a notice that cannot be sent is reported in the returned deliveries
 * (recorded with the ESCALATED evidence) and logged.
 */
export async function notifyEscalation(rt: Runtime, input: { changeId: string; trigger: string; planHash?: string; reasonCodes: readonly ReasonCode[] }): Promise<JsonObject[]> {
  const from = rt.env.NHIGOV_SES_SENDER;
  if (!from || input.reasonCodes.length === 0) return [];
  try {
    const { policy } = await rt.loadPolicy();
    const plan: Plan | null = input.planHash ? await rt.loadPlan(input.planHash).catch(() => null) : null;
    const recipients = escalationRecipients(policy, input.reasonCodes, plan);
    ses ??= new SESv2Client({});
    const client = ses;
    const deliveries: JsonObject[] = [];
    for (const recipient of recipients) {
      const message = escalationEmail(input.changeId, input.trigger, recipient, input.reasonCodes, plan?.findings ?? []);
      try {
        await sendEmail(client, { from, to: [recipient.email], ...message });
        deliveries.push({ channel: 'email', route: recipient.route, to: recipient.email, reasonCodes: recipient.reasonCodes, delivered: true });
      } catch (error) {
        deliveries.push({ channel: 'email', route: recipient.route, to: recipient.email, reasonCodes: recipient.reasonCodes, delivered: false, error: describeError(error) });
      }
    }
    return deliveries;
  } catch (error) {
    rt.logger.error('escalation notice not sent', { changeId: input.changeId, reasonCode: isAppError(error) ? error.reasonCode : undefined, error: describeError(error) });
    return [{ channel: 'email', delivered: false, error: describeError(error) }];
  }
}
