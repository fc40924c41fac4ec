import { AppError } from '../domain/reasons.js';

/** A Slack incoming-webhook message: `text` is the fallback, `blocks` the layout. */
export interface SlackMessage {
  readonly text: string;
  readonly blocks: ReadonlyArray<Record<string, unknown>>;
  /**
   * A direct message: `@U…` (the recipient's Slack user id). An incoming webhook posts to its own
   * channel and cannot address a user; a workspace app (chat.postMessage) or a relay reads this
   * field and opens the DM. The local Slack sink records it as sent.
   */
  readonly channel?: string;
}

/** How long a webhook post may take before it counts as unavailable. */
export const SLACK_POST_TIMEOUT_MS = 5_000;

/** Posts to an incoming webhook. The URL is a credential: it never appears in errors or logs. */
export async function postSlackMessage(webhookUrl: string, message: SlackMessage, fetchImpl: typeof fetch = fetch): Promise<void> {
  let reply: Response;
  try {
    reply = await fetchImpl(webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(message),
      signal: AbortSignal.timeout(SLACK_POST_TIMEOUT_MS),
    });
  } catch (error) {
    throw new AppError('TARGET_UNAVAILABLE', `posting to the Slack webhook: ${error instanceof Error ? error.name : 'network error'}`, { cause: error });
  }
  await reply.text().catch(() => '');
  if (reply.status === 429) throw new AppError('THROTTLED', 'posting to the Slack webhook: rate limited (429)');
  if (reply.status >= 500) throw new AppError('TARGET_UNAVAILABLE', `posting to the Slack webhook: ${reply.status}`);
  if (!reply.ok) throw new AppError('CONNECTOR_ACCESS_DENIED', `posting to the Slack webhook: refused (${reply.status}); check the webhook URL secret`);
}
