import { SLACK_SINK_PATH, type SinkMessage } from '../gateway/slack-sink.js';

/**
 * What the local stack sent: emails as moto's SES recorded them (`GET /moto-api/data.json`,
 * `ses.Message[]`) and Slack messages as the gateway's webhook sink recorded them
 * (`GET /_sinks/slack`). Reading them changes nothing.
 */

export interface OutboxLink {
  readonly url: string;
  readonly label: string;
}

export interface OutboxEmail {
  readonly id: string;
  readonly from: string;
  readonly to: readonly string[];
  readonly cc: readonly string[];
  readonly subject: string;
  /** The body moto kept: the HTML part when there was one, else the text. */
  readonly body: string;
  readonly isHtml: boolean;
  readonly links: readonly OutboxLink[];
}

export interface OutboxSlackMessage {
  readonly id: string;
  readonly receivedAt: string;
  readonly hook: string;
  /** A direct message's recipient (`@U…`, the payload's `channel`); absent for the channel message. */
  readonly channel?: string;
  readonly text: string;
  /** The text of each block, in order (Slack mrkdwn). */
  readonly blocks: readonly string[];
  readonly links: readonly OutboxLink[];
}

export interface Outbox {
  readonly emails: readonly OutboxEmail[];
  readonly slack: readonly OutboxSlackMessage[];
  /** Why a source could not be read (the page says so instead of failing). */
  readonly problems: readonly string[];
}

/** How long a source may take before the page shows what it has. */
const SOURCE_TIMEOUT_MS = 5_000;

export async function readOutbox(sources: { motoEndpoint: string; gatewayEndpoint: string }): Promise<Outbox> {
  const problems: string[] = [];
  const [emails, slack] = await Promise.all([
    getJson(`${sources.motoEndpoint}/moto-api/data.json`).then(
      (data) => emailsFromMotoData(data),
      (error: unknown) => {
        problems.push(`emails: moto's SES data could not be read (${describe(error)})`);
        return [];
      },
    ),
    getJson(`${sources.gatewayEndpoint}${SLACK_SINK_PATH}`).then(
      (data) => slackFromSink(data),
      (error: unknown) => {
        problems.push(`Slack: the webhook sink could not be read (${describe(error)})`);
        return [];
      },
    ),
  ]);
  return { emails, slack, problems };
}

/** moto's `ses.Message[]`, newest first (moto keeps sending order and no timestamp). */
export function emailsFromMotoData(data: unknown): OutboxEmail[] {
  const messages = (data as { ses?: { Message?: unknown } } | null)?.ses?.Message;
  if (!Array.isArray(messages)) return [];
  return messages
    .map((raw): OutboxEmail => {
      const m = raw as { id?: unknown; source?: unknown; subject?: unknown; body?: unknown; destinations?: { ToAddresses?: unknown; CcAddresses?: unknown } };
      const body = typeof m.body === 'string' ? m.body : '';
      const isHtml = /<[a-z][\s\S]*>/i.test(body);
      return {
        id: String(m.id ?? ''),
        from: String(m.source ?? ''),
        to: strings(m.destinations?.ToAddresses),
        cc: strings(m.destinations?.CcAddresses),
        subject: String(m.subject ?? ''),
        body,
        isHtml,
        links: isHtml ? linksInHtml(body) : linksInText(body),
      };
    })
    .reverse();
}

/** The sink's `{messages: SinkMessage[]}`, newest first. */
export function slackFromSink(data: unknown): OutboxSlackMessage[] {
  const messages = (data as { messages?: unknown } | null)?.messages;
  if (!Array.isArray(messages)) return [];
  return (messages as SinkMessage[])
    .map((m): OutboxSlackMessage => {
      const payload = (m.payload ?? {}) as { text?: unknown; blocks?: unknown; channel?: unknown };
      const blocks = Array.isArray(payload.blocks) ? payload.blocks.map(blockText).filter((t) => t !== '') : [];
      const text = typeof payload.text === 'string' ? payload.text : '';
      return { id: String(m.id), receivedAt: String(m.receivedAt), hook: String(m.hook), ...(typeof payload.channel === 'string' ? { channel: payload.channel } : {}), text, blocks, links: [text, ...blocks].flatMap(linksInMrkdwn) };
    })
    .reverse();
}

/** Text of a Slack block: a section's text, or a context's elements. */
function blockText(block: unknown): string {
  const b = block as { text?: { text?: unknown }; elements?: unknown };
  if (typeof b?.text?.text === 'string') return b.text.text;
  if (Array.isArray(b?.elements)) return b.elements.map((e) => (typeof (e as { text?: unknown }).text === 'string' ? (e as { text: string }).text : '')).join(' ');
  return '';
}

/** `<a href="…">label</a>` links of an HTML body (http and https only), entities decoded. */
export function linksInHtml(html: string): OutboxLink[] {
  const links: OutboxLink[] = [];
  for (const match of html.matchAll(/<a\b[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)')[^>]*>([\s\S]*?)<\/a>/gi)) {
    const url = decodeEntities(match[1] ?? match[2] ?? '');
    const label = decodeEntities((match[3] ?? '').replace(/<[^>]*>/g, '')).trim();
    if (isWebUrl(url)) links.push({ url, label: label || url });
  }
  return links;
}

/** Bare http(s) URLs of a text body. */
export function linksInText(text: string): OutboxLink[] {
  return [...text.matchAll(/https?:\/\/[^\s<>"']+/g)].map((m) => m[0].replace(/[.,;:!?)]+$/, '')).map((url) => ({ url, label: url }));
}

/** Slack mrkdwn links: `<url|label>` or `<url>`. */
export function linksInMrkdwn(text: string): OutboxLink[] {
  return [...text.matchAll(/<(https?:\/\/[^|>\s]+)(?:\|([^>]*))?>/g)].map((m) => ({ url: decodeEntities(m[1] ?? ''), label: decodeEntities(m[2] ?? m[1] ?? '') }));
}

/** Splits mrkdwn into plain text and links, for rendering each safely. */
export function mrkdwnParts(text: string): Array<{ text: string } | OutboxLink> {
  const parts: Array<{ text: string } | OutboxLink> = [];
  let last = 0;
  for (const m of text.matchAll(/<(https?:\/\/[^|>\s]+)(?:\|([^>]*))?>/g)) {
    if ((m.index ?? 0) > last) parts.push({ text: text.slice(last, m.index) });
    parts.push({ url: decodeEntities(m[1] ?? ''), label: decodeEntities(m[2] ?? m[1] ?? '') });
    last = (m.index ?? 0) + m[0].length;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  return parts;
}

function isWebUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:';
  } catch {
    return false;
  }
}

function decodeEntities(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39|#x27);/g, (_, name: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'" })[name] ?? '');
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

async function getJson(url: string): Promise<unknown> {
  const reply = await fetch(url, { signal: AbortSignal.timeout(SOURCE_TIMEOUT_MS) });
  if (!reply.ok) throw new Error(`HTTP ${reply.status}`);
  return reply.json();
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
