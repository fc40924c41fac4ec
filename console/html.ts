import { escapeHtml } from '../lambdas/notifications/html.js';
import { isTerminalStatus } from '../lambdas/domain/status.js';
import type { StackTarget } from '../cli/lib/context.js';

/** Escapes any value for HTML text and quoted attributes (null and undefined render empty). */
export function esc(value: unknown): string {
  return value === undefined || value === null ? '' : escapeHtml(value);
}

/** A page of the console's navigation. */
export interface NavEntry {
  readonly id: string;
  readonly label: string;
  readonly href: string;
}

/** The console's own sections, in navigation order (the local gateway adds its Outbox after them). */
export const SECTIONS: readonly NavEntry[] = [
  { id: 'changes', label: 'Changes', href: '/console/' },
  { id: 'identities', label: 'Identities', href: '/console/identities' },
  { id: 'attestation', label: 'Attestation', href: '/console/attestation' },
  { id: 'dashboard', label: 'Dashboard', href: '/console/dashboard' },
  { id: 'policy', label: 'Policy', href: '/console/policy' },
];

/** What a page renderer produces; `layout` puts it in the console's frame. */
export interface PageModel {
  /** The page's own title (the <title> adds the console's name). */
  readonly title: string;
  /** The id of the navigation entry this page belongs to. */
  readonly section: string;
  /** Already-escaped HTML of <main>, after the <h1>. */
  readonly body: string;
  /** Seconds between automatic reloads; absent: the page does not reload by itself. */
  readonly refreshSeconds?: number;
  /** Already-escaped HTML shown right of the title (a status pill). */
  readonly titleSuffix?: string;
}

/** Around every page: the stack it looks at (null: not known, its context could not be built) and the navigation. */
export interface ConsoleFrame {
  readonly target: StackTarget | null;
  readonly nav: readonly NavEntry[];
}

/**
 * Headers of every console page. No script at all (the auto-refresh is a meta refresh), no
 * framing, forms post only to the console itself.
 */
export const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  // same-origin: a form POST then carries a real Origin (no-referrer would send "null"); nothing leaks off-site.
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

/** How the header names a stack's mode. */
export function modeLabel(mode: StackTarget['mode']): string {
  return mode === 'local' ? 'local' : 'deployed';
}

/** The page shell: skip link, banner with the stack and the navigation, main landmark, footer. */
export function layout(model: PageModel, frame: ConsoleFrame): string {
  const nav = frame.nav.map((s) => `<li><a href="${esc(s.href)}"${s.id === model.section ? ' aria-current="page"' : ''}>${esc(s.label)}</a></li>`).join('');
  const refresh = model.refreshSeconds ? `<meta http-equiv="refresh" content="${Math.max(1, Math.round(model.refreshSeconds))}">` : '';
  const target = frame.target;
  const stack = target
    ? `<dl class="target" id="stack-target" aria-label="The stack this console looks at" data-mode="${esc(target.mode)}">
<div><dt>Stack</dt><dd id="stack-name">${esc(target.stackName)}</dd></div>
<div><dt>Mode</dt><dd id="stack-mode">${esc(modeLabel(target.mode))}</dd></div>
<div><dt>Region</dt><dd id="stack-region">${esc(target.region)}</dd></div>
<div><dt>Account</dt><dd id="stack-account">${esc(target.account)}</dd></div>
</dl>`
    : '<p class="target" id="stack-target">Stack not reachable</p>';
  const footer = target?.mode === 'local'
    ? 'Local stack: state is in memory and is lost on <code>nhigov local down</code>. Every view here is read from the same library the <code>nhigov</code> CLI uses.'
    : 'Every view here is read live from the stack, with the same library the <code>nhigov</code> CLI uses. Decisions go through the stack&#39;s approval API.';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
${refresh}<title>${esc(model.title)} · nhi-governor console</title>
<style>${STYLE}</style>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
<p class="brand"><a href="/console/">nhi-governor</a> <span>console</span></p>
<nav aria-label="Console sections"><ul>${nav}</ul></nav>
${stack}
</header>
<main id="main" tabindex="-1">
<h1>${esc(model.title)}${model.titleSuffix ? ` ${model.titleSuffix}` : ''}</h1>
${model.body}
</main>
<footer><p>${footer}</p></footer>
</body>
</html>`;
}

/** A status as a labelled pill (colour and text: never colour alone). */
export function statusPill(status: string | null | undefined): string {
  const value = status ?? 'UNKNOWN';
  return `<span class="pill ${statusTone(value)}">${esc(value)}</span>`;
}

export function statusTone(status: string): 'ok' | 'bad' | 'warn' | 'info' | 'muted' {
  if (status === 'VERIFIED' || status === 'APPROVED') return 'ok';
  if (status === 'FAILED' || status === 'ESCALATED' || status === 'ROLLED_BACK' || status === 'REJECTED' || status === 'EXPIRED') return 'bad';
  if (status === 'AWAITING_APPROVAL' || status === 'PENDING') return 'warn';
  if (status === 'NO_CHANGES' || status === 'SKIPPED' || status === 'PLANNED') return 'muted';
  return isTerminalStatus(status) ? 'muted' : 'info';
}

/** A reason code as an inline code label. */
export function reasonCode(code: string): string {
  return `<code class="reason">${esc(code)}</code>`;
}

/** "42 s", "3 min", "2 h", "5 d": how long ago `at` was, at `now`. */
export function age(at: string, now: Date): string {
  const ms = now.getTime() - Date.parse(at);
  if (Number.isNaN(ms)) return '-';
  return formatDuration(Math.max(0, ms));
}

/** A duration for people: "850 ms", "4.2 s", "3 min", "2.5 h", "5 d". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 86_400_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${Math.round(ms / 86_400_000)} d`;
}

/** A timestamp with its machine-readable form. */
export function time(at: string | null | undefined): string {
  if (!at) return '-';
  return `<time datetime="${esc(at)}">${esc(at.replace('T', ' ').replace(/\.\d+Z$/, 'Z'))}</time>`;
}

/** Pretty JSON in a <pre>. */
export function jsonBlock(value: unknown): string {
  return `<pre class="json">${esc(JSON.stringify(value, null, 2) ?? 'null')}</pre>`;
}

/** A banner: role=status for good news, role=alert for problems. */
export function banner(tone: 'ok' | 'bad' | 'warn' | 'info', html: string): string {
  return `<div class="banner ${tone}" role="${tone === 'bad' ? 'alert' : 'status'}">${html}</div>`;
}

/** Text shortened to `n` characters, with the full value in a title attribute. */
export function short(value: string, n = 12): string {
  return value.length <= n ? `<code>${esc(value)}</code>` : `<code title="${esc(value)}">${esc(value.slice(0, n))}…</code>`;
}

// Colours: every text/background pair below is at least 4.5:1 (WCAG AA for normal text).
const STYLE = `
:root { color-scheme: light; --fg: #1a1a1a; --muted: #4d4d4d; --line: #c4c4c4; --link: #0b4f8a; --bg-soft: #f3f5f7; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: #fff; margin: 0; }
a { color: var(--link); }
a:focus-visible, button:focus-visible, select:focus-visible, textarea:focus-visible, input:focus-visible, summary:focus-visible { outline: 3px solid #1d5fd6; outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; background: #fff; padding: .5rem 1rem; z-index: 10; }
.skip:focus { left: .5rem; top: .5rem; }
header.top { display: flex; flex-wrap: wrap; align-items: center; gap: 1.5rem; padding: .6rem 1.5rem; background: #102a43; color: #fff; }
header.top a { color: #fff; }
.brand { margin: 0; font-weight: 700; }
.brand span { font-weight: 400; color: #d9e2ec; margin-left: .3rem; }
nav ul { list-style: none; margin: 0; padding: 0; display: flex; gap: 1.2rem; flex-wrap: wrap; }
nav a { text-decoration: none; padding: .2rem 0; }
nav a[aria-current="page"] { border-bottom: 3px solid #f0b429; font-weight: 700; }
.target { display: flex; flex-wrap: wrap; gap: .2rem 1rem; margin: 0 0 0 auto; font-size: .9rem; color: #d9e2ec; }
.target div { display: flex; gap: .35rem; }
.target dt { color: #d9e2ec; }
.target dd { margin: 0; color: #fff; font-weight: 700; }
main { max-width: 1250px; margin: 0 auto; padding: 1rem 1.5rem 2rem; }
main:focus { outline: none; }
h1 { font-size: 1.5rem; margin: .5rem 0 1rem; display: flex; gap: .75rem; align-items: center; flex-wrap: wrap; }
h2 { font-size: 1.2rem; border-bottom: 2px solid var(--line); padding-bottom: .2rem; margin-top: 2rem; }
h3 { font-size: 1.02rem; margin: 1.2rem 0 .4rem; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; color: var(--muted); }
th, td { border: 1px solid var(--line); padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: #e9edf1; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code, pre { font: 13px/1.4 ui-monospace, Menlo, Consolas, monospace; }
code { word-break: break-all; }
pre.json { margin: 0; white-space: pre-wrap; word-break: break-word; background: var(--bg-soft); padding: .4rem .5rem; border-radius: 4px; max-height: 22rem; overflow: auto; }
.pill { display: inline-block; padding: 0 .55rem; border-radius: .7rem; font-size: .85rem; font-weight: 700; border: 1px solid currentColor; white-space: nowrap; }
.pill.ok, .banner.ok { color: #0b5d26; background: #e6f4ea; }
.pill.bad, .banner.bad { color: #9b0c0c; background: #fdecec; }
.pill.warn, .banner.warn { color: #6b4a00; background: #fff4d6; }
.pill.info, .banner.info { color: #0b4f8a; background: #e7f0fa; }
.pill.muted { color: #444; background: #eee; }
code.reason { background: #eef1f4; padding: 0 .25rem; border-radius: 3px; }
.banner { border: 2px solid currentColor; border-radius: 6px; padding: .6rem .9rem; margin: 1rem 0; }
.banner p { margin: .2rem 0; }
.muted { color: var(--muted); }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1.2rem; margin: .5rem 0 1rem; }
dl.facts dt { font-weight: 600; color: var(--muted); }
dl.facts dd { margin: 0; }
.filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end; margin: .5rem 0 1rem; }
label { font-weight: 600; }
select, textarea, input[type=text] { font: inherit; padding: .3rem .4rem; border: 1px solid #6b6b6b; border-radius: 4px; background: #fff; color: var(--fg); }
textarea { width: 100%; max-width: 40rem; min-height: 4rem; display: block; }
button { font: inherit; font-weight: 700; padding: .45rem 1.2rem; border-radius: 5px; border: 2px solid #102a43; background: #fff; color: #102a43; cursor: pointer; }
button.approve { background: #0b5d26; border-color: #0b5d26; color: #fff; }
button.reject { background: #9b0c0c; border-color: #9b0c0c; color: #fff; }
.buttons { display: flex; gap: 1rem; margin-top: .8rem; }
.action { border: 1px solid var(--line); border-radius: 6px; padding: 0 1rem .8rem; margin: .8rem 0; }
.inline-facts { display: flex; flex-wrap: wrap; gap: .3rem 1.4rem; margin: .2rem 0 .6rem; }
.inline-facts .k { font-weight: 600; color: var(--muted); margin-right: .3rem; }
.action h3 { display: flex; gap: .6rem; flex-wrap: wrap; align-items: center; }
table.diff td.changed { background: #fff4d6; }
.diff del { color: #9b0c0c; text-decoration: line-through; }
.diff ins { color: #0b5d26; text-decoration: none; font-weight: 600; }
ol.timeline { list-style: none; padding: 0; margin: 0; border-left: 3px solid var(--line); }
ol.timeline li { position: relative; padding: .3rem 0 .5rem 1rem; }
ol.timeline li::before { content: ""; position: absolute; left: -8px; top: .75rem; width: 13px; height: 13px; border-radius: 50%; background: #fff; border: 3px solid #486581; }
ol.timeline li.has-reason::before { border-color: #9b0c0c; }
ol.timeline .meta { color: var(--muted); font-size: .85rem; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(500px, 1fr)); gap: 1.5rem 2.5rem; }
ul.links { margin: .4rem 0; padding-left: 1.2rem; }
ul.cell { margin: 0; padding-left: 1rem; }
#identities th code, #identities td > code { word-break: normal; overflow-wrap: anywhere; }
figure { margin: 0; }
figcaption { font-weight: 600; margin-bottom: .3rem; }
svg text { font: 12px system-ui, sans-serif; fill: #1a1a1a; }
.legend { display: flex; flex-wrap: wrap; gap: .3rem 1rem; list-style: none; padding: 0; margin: .3rem 0; font-size: .85rem; }
.legend .swatch { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem; vertical-align: -1px; border: 1px solid #333; }
.message { border: 1px solid var(--line); border-radius: 6px; padding: .2rem 1rem 1rem; margin: 1rem 0; }
iframe.email { width: 100%; height: 22rem; border: 1px solid var(--line); background: #fff; }
details summary { cursor: pointer; color: var(--link); }
footer { max-width: 1250px; margin: 0 auto; padding: 1rem 1.5rem 2rem; color: var(--muted); font-size: .85rem; border-top: 1px solid var(--line); }
`;
