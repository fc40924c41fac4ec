import { describe, expect, it } from 'vitest';
import { emailsFromMotoData, linksInHtml, linksInMrkdwn, linksInText, mrkdwnParts, slackFromSink } from '../../../local/console-outbox/outbox.js';
import { renderOutboxPage as renderOutboxModel, type OutboxPageModel } from '../../../local/console-outbox/page.js';
import { layout } from '../../../console/html.js';

const renderOutboxPage = (model: OutboxPageModel): string => layout(renderOutboxModel(model), { target: null, nav: [] });

const LINK = 'http://127.0.0.1:4566/approvals/abcdefghijklmnopqrstuvwx?approver=approver%40example.com&exp=1900000000&via=email&sig=s1g';

/** What moto 5.2 answers on GET /moto-api/data.json for SES (v1 and v2 share it). */
const motoData = {
  iam: {},
  ses: {
    Message: [
      { id: 'm1', source: 'nhigov@example.com', subject: 'first', destinations: { ToAddresses: ['secops@example.com'] }, body: 'plain text, see http://127.0.0.1:4566/console/' },
      {
        id: 'm2',
        source: 'nhigov@example.com',
        subject: 'Approval needed (chg-0123456789abcdef01234567)',
        destinations: { ToAddresses: ['approver@example.com'], CcAddresses: [] },
        body: `<p>Decide</p><p><a href="${LINK.replace(/&/g, '&amp;')}">Review and decide</a> <a href="javascript:alert(1)">bad</a></p>`,
      },
    ],
  },
};

const sinkData = {
  messages: [
    {
      id: 's1',
      receivedAt: '2026-03-01T10:00:00.000Z',
      hook: '/services/T0/B0/x',
      payload: {
        text: 'Approval needed (chg-0123456789abcdef01234567)',
        blocks: [
          { type: 'section', text: { type: 'mrkdwn', text: '*Why:* env=prod on `svc-<x>`' } },
          { type: 'section', text: { type: 'mrkdwn', text: `<${LINK}|Review as approver@example.com>` } },
          { type: 'context', elements: [{ type: 'mrkdwn', text: 'policy abc' }] },
        ],
      },
    },
  ],
};

describe('console outbox', () => {
  it('reads moto SES messages newest first, with their links (entities decoded, only http(s))', () => {
    const emails = emailsFromMotoData(motoData);
    expect(emails.map((e) => e.id)).toEqual(['m2', 'm1']);
    expect(emails[0]).toMatchObject({ to: ['approver@example.com'], isHtml: true, links: [{ url: LINK, label: 'Review and decide' }] });
    expect(emails[1]).toMatchObject({ isHtml: false, links: [{ url: 'http://127.0.0.1:4566/console/' }] });
    expect(emailsFromMotoData({})).toEqual([]);
    expect(emailsFromMotoData(null)).toEqual([]);
  });

  it('reads Slack sink messages with their blocks and links', () => {
    const [message] = slackFromSink(sinkData);
    expect(message?.blocks).toEqual(['*Why:* env=prod on `svc-<x>`', `<${LINK}|Review as approver@example.com>`, 'policy abc']);
    expect(message?.links).toEqual([{ url: LINK, label: 'Review as approver@example.com' }]);
    expect(slackFromSink({ nope: true })).toEqual([]);
  });

  it('extracts links from HTML, text and mrkdwn', () => {
    expect(linksInHtml(`<a class="x" href='https://a.example/?q=1&amp;r=2'><b>A</b></a><a href="data:text/html,x">d</a>`)).toEqual([{ url: 'https://a.example/?q=1&r=2', label: 'A' }]);
    expect(linksInText('go to https://a.example/x, now (or https://b.example/y).')).toEqual([{ url: 'https://a.example/x', label: 'https://a.example/x' }, { url: 'https://b.example/y', label: 'https://b.example/y' }]);
    expect(linksInMrkdwn('<https://a.example|A> and <https://b.example>')).toEqual([{ url: 'https://a.example', label: 'A' }, { url: 'https://b.example', label: 'https://b.example' }]);
    expect(mrkdwnParts('a <https://x.example|X> b')).toEqual([{ text: 'a ' }, { url: 'https://x.example', label: 'X' }, { text: ' b' }]);
  });

  it('renders working links, a sandboxed body, a link to the change, and escapes the rest', () => {
    const html = renderOutboxPage({ outbox: { emails: emailsFromMotoData(motoData), slack: slackFromSink(sinkData), problems: ['Slack: <down>'] }, recipient: null });
    expect(html).toContain(`<a href="${LINK.replace(/&/g, '&amp;')}">Review and decide</a>`);
    expect(html).toContain(`<a href="${LINK.replace(/&/g, '&amp;')}">Review as approver@example.com</a>`);
    expect(html).not.toContain('href="javascript:');
    expect(html).toContain('sandbox="allow-popups allow-popups-to-escape-sandbox" srcdoc="&lt;base target=&quot;_blank&quot;&gt;&lt;p&gt;Decide');
    expect(html).toContain('<a href="/console/changes/chg-0123456789abcdef01234567">');
    expect(html).toContain('<strong>Why:</strong> env=prod on <code>svc-&lt;x&gt;</code>');
    expect(html).toContain('Slack: &lt;down&gt;');
    expect(html).toContain('<h2 id="emails-h">Emails (2)</h2>');
  });

  it('filters by recipient', () => {
    const html = renderOutboxPage({ outbox: { emails: emailsFromMotoData(motoData), slack: slackFromSink(sinkData), problems: [] }, recipient: 'secops@example.com' });
    expect(html).toContain('<h2 id="emails-h">Emails (1)</h2>');
    expect(html).toContain('<h2 id="slack-h">Slack messages (0)</h2>');
    expect(html).toContain('<option value="secops@example.com" selected>');
  });
});
