import { banner, esc, type PageModel, time } from '../../console/html.js';
import type { ExtraPage } from '../../console/route.js';
import { mrkdwnParts, readOutbox, type Outbox, type OutboxEmail, type OutboxLink, type OutboxSlackMessage } from './outbox.js';

/**
 * The Outbox: what the local stack sent (moto's SES data, the gateway's Slack sink). It exists
 * only beside the emulator, so the gateway adds it to the console; `nhigov console` has none.
 */
export function outboxPage(sources: { motoEndpoint: string; gatewayEndpoint: string }): ExtraPage {
  return {
    id: 'outbox',
    label: 'Outbox',
    async render(url) {
      return renderOutboxPage({ outbox: await readOutbox(sources), recipient: url.searchParams.get('to')?.trim().toLowerCase() || null });
    },
  };
}

export interface OutboxPageModel {
  readonly outbox: Outbox;
  /** Only messages to this address (emails) or naming it (Slack links); null: all. */
  readonly recipient: string | null;
}

/** Emails (moto SES) and Slack messages (the webhook sink) the stack sent, with their links. */
export function renderOutboxPage(model: OutboxPageModel): PageModel {
  const { outbox, recipient } = model;
  const emails = recipient ? outbox.emails.filter((e) => [...e.to, ...e.cc].some((to) => to.toLowerCase() === recipient)) : outbox.emails;
  const slack = recipient ? outbox.slack.filter((m) => m.links.some((l) => l.url.toLowerCase().includes(encodeURIComponent(recipient)))) : outbox.slack;
  const recipients = [...new Set(outbox.emails.flatMap((e) => e.to))].sort();
  const filter = `<form class="filters" method="get" action="/console/outbox" role="search" aria-label="Filter messages">
<div><label for="recipient">Recipient</label><br><select id="recipient" name="to"><option value="">Everyone</option>${recipients.map((r) => `<option value="${esc(r)}"${r === recipient ? ' selected' : ''}>${esc(r)}</option>`).join('')}</select></div>
<div><button type="submit">Filter</button></div></form>`;
  const body = `<p class="muted">Approval links are signed for the approver they name and work once: following one here is what that approver would do. GET only shows the plan; deciding is a POST.</p>
${outbox.problems.map((p) => banner('warn', esc(p))).join('')}
${filter}
<section aria-labelledby="emails-h"><h2 id="emails-h">Emails (${emails.length})</h2>
${emails.length ? emails.map(emailCard).join('\n') : '<p>No email sent yet.</p>'}
</section>
<section aria-labelledby="slack-h"><h2 id="slack-h">Slack messages (${slack.length})</h2>
${slack.length ? slack.map(slackCard).join('\n') : '<p>No Slack message posted yet.</p>'}
</section>`;
  return { title: 'Outbox', section: 'outbox', body };
}

function emailCard(email: OutboxEmail, index: number): string {
  const id = `email-${index + 1}`;
  // The HTML part is shown as the recipient's client would, sandboxed: no script, no same-origin access.
  const preview = email.isHtml
    ? `<iframe class="email" title="Body of the email: ${esc(email.subject)}" sandbox="allow-popups allow-popups-to-escape-sandbox" srcdoc="${esc(`<base target="_blank">${email.body}`)}"></iframe>`
    : `<pre class="json">${esc(email.body)}</pre>`;
  return `<article class="message email" id="${id}" aria-labelledby="${id}-h" data-to="${esc(email.to.join(','))}">
<h3 id="${id}-h">${esc(email.subject || '(no subject)')}</h3>
<dl class="facts"><dt>From</dt><dd>${esc(email.from)}</dd><dt>To</dt><dd>${esc(email.to.join(', '))}</dd>${email.cc.length ? `<dt>Cc</dt><dd>${esc(email.cc.join(', '))}</dd>` : ''}<dt>Message id</dt><dd><code>${esc(email.id)}</code></dd></dl>
${changeLink(email.subject)}${linkList(email.links, `Links in “${email.subject}” to ${email.to.join(', ')}`)}
<details><summary>Body <span class="sr-only">of ${esc(email.subject)}</span></summary>${preview}</details>
</article>`;
}

function slackCard(message: OutboxSlackMessage, index: number): string {
  const id = `slack-${index + 1}`;
  return `<article class="message slack" id="${id}" aria-labelledby="${id}-h">
<h3 id="${id}-h">${esc(message.text || '(no text)')}</h3>
<dl class="facts"><dt>Received</dt><dd>${time(message.receivedAt)}</dd><dt>Webhook</dt><dd><code>${esc(message.hook)}</code></dd><dt>To</dt><dd>${message.channel ? `direct message <code>${esc(message.channel)}</code>` : 'the channel'}</dd></dl>
${message.blocks.map((b) => `<p style="white-space: pre-wrap">${mrkdwn(b)}</p>`).join('\n')}
${changeLink(message.text)}${linkList(message.links, `Links in the Slack message “${message.text}”`)}
</article>`;
}

/** Messages name their change id: a link to it in the console. */
function changeLink(text: string): string {
  const id = /\b(chg-[0-9a-f]{8,64})\b/.exec(text)?.[1];
  return id ? `<p>Change: <a href="/console/changes/${encodeURIComponent(id)}"><code>${esc(id)}</code></a></p>` : '';
}

function linkList(links: readonly OutboxLink[], label: string): string {
  if (links.length === 0) return '';
  return `<nav aria-label="${esc(label)}"><ul class="links">${links.map((l) => `<li><a href="${esc(l.url)}">${esc(l.label)}</a> <small class="muted"><code>${esc(shortUrl(l.url))}</code></small></li>`).join('')}</ul></nav>`;
}

function mrkdwn(text: string): string {
  return mrkdwnParts(text)
    .map((part) => ('url' in part ? `<a href="${esc(part.url)}">${esc(part.label)}</a>` : emphasis(esc(part.text))))
    .join('');
}

/** Slack's *bold* and `code`, on already-escaped text (which holds no < or >). */
function emphasis(escaped: string): string {
  return escaped.replace(/\*([^*\n]+)\*/g, '<strong>$1</strong>').replace(/`([^`\n]+)`/g, '<code>$1</code>');
}

function shortUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.pathname}${parsed.search ? '?…' : ''}`;
  } catch {
    return url;
  }
}
