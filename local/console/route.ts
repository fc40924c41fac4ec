import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decideThroughLink } from '../../cli/lib/approvals.js';
import { listChanges, showChange } from '../../cli/lib/changes.js';
import { contextFromOutputs, type StackContext } from '../../cli/lib/context.js';
import { toCsv, toJsonl } from '../../cli/lib/evidence-format.js';
import { renderEvidenceHtml } from '../../cli/lib/evidence-html.js';
import { evidenceReport } from '../../cli/lib/evidence-report.js';
import { policyStatus } from '../../cli/lib/policy-status.js';
import { describeError } from '../../lambdas/domain/reasons.js';
import type { GatewayRoute } from '../gateway/server.js';
import type { StackOutputs } from '../stack.js';
import { dashboardFigures } from './figures.js';
import { banner, CONSOLE_HEADERS, esc, layout } from './html.js';
import { readOutbox } from './outbox.js';
import { renderChangePage } from './pages/change.js';
import { renderChangesPage, type ChangeRow } from './pages/changes.js';
import { renderDashboardPage } from './pages/dashboard.js';
import { renderOutboxPage } from './pages/outbox.js';
import { renderPolicyPage } from './pages/policy.js';

export const CONSOLE_PATH = '/console';

export interface ConsoleOptions {
  /** The stack's outputs (the gateway endpoint, tables, the approval channels). */
  readonly outputs: StackOutputs;
  /**
   * moto's own endpoint. The console reads past the gateway: it observes, so it must neither
   * consume fault rules nor show up in `nhigov stats`. Decisions still go through the gateway's
   * approval API, like any approver's.
   */
  readonly motoEndpoint: string;
  readonly clock?: () => Date;
}

interface Flash {
  readonly tone: 'ok' | 'bad';
  readonly message: string;
}

const CHANGE_PATH = /^\/console\/changes\/([A-Za-z0-9._:-]{1,128})(?:\/(decision|evidence\.json|evidence\.jsonl|evidence\.csv|evidence\.html|show\.json))?\/?$/;
/** Decision outcomes kept for the page the browser is redirected to (oldest dropped first). */
const MAX_FLASHES = 200;

/** The local console: server-rendered pages over the same library the CLI uses. */
export function consoleRoute(options: ConsoleOptions): GatewayRoute {
  const now = options.clock ?? (() => new Date());
  let context: StackContext | undefined;
  // The CLI's context, with its clients and stores pointed at moto; outputs (and so the approval API's endpoint) unchanged.
  const ctx = (): StackContext => (context ??= { ...contextFromOutputs({ ...options.outputs, endpoint: options.motoEndpoint }), outputs: options.outputs });
  const owners = new Map<string, readonly string[]>();
  const flashes = new Map<string, Flash>();

  const ownersOf = async (changeId: string): Promise<readonly string[]> => {
    const known = owners.get(changeId);
    if (known) return known;
    const record = await ctx().changes.get(changeId);
    if (!record?.planHash) return [];
    const plan = await ctx().plans.get(record.planHash).catch(() => null);
    if (!plan) return [];
    const found = plan.approval.owners;
    owners.set(changeId, found); // plans are immutable: the owners of a planned change never change
    return found;
  };

  const pages = {
    async changes(url: URL): Promise<string> {
      const summaries = await listChanges(ctx());
      const rows: ChangeRow[] = await Promise.all(summaries.map(async (s) => ({ ...s, owners: await ownersOf(s.changeId) })));
      return renderChangesPage({ rows, status: url.searchParams.get('status') || null, now: now(), refreshPaused: url.searchParams.get('refresh') === 'off' });
    },
    async dashboard(): Promise<string> {
      const [summaries, chains] = await Promise.all([listChanges(ctx()), ctx().evidence.listAllChains()]);
      const at = now();
      return renderDashboardPage({ figures: dashboardFigures(summaries, chains, at), now: at });
    },
    async policy(): Promise<string> {
      const publicKeyPem = readFileSync(options.outputs.policy.publicKeyPath, 'utf8');
      const at = now();
      return renderPolicyPage({ status: await policyStatus(ctx().policies, publicKeyPem, at), now: at });
    },
    async outbox(url: URL): Promise<string> {
      const outbox = await readOutbox({ motoEndpoint: options.motoEndpoint, gatewayEndpoint: options.outputs.endpoint });
      return renderOutboxPage({ outbox, recipient: url.searchParams.get('to')?.trim().toLowerCase() || null });
    },
  };

  return async (request, body, response) => {
    const url = new URL(request.url ?? '/', 'http://console.local');
    const path = url.pathname;
    if (path !== CONSOLE_PATH && !path.startsWith(`${CONSOLE_PATH}/`)) return false;
    const method = request.method ?? 'GET';
    try {
      if (path === CONSOLE_PATH) return redirect(response, `${CONSOLE_PATH}/`, 301);
      const change = CHANGE_PATH.exec(path);
      if (change?.[1]) {
        const changeId = change[1];
        const part = change[2];
        if (part === 'decision') {
          if (method !== 'POST') return notAllowed(response, 'POST');
          return await decide(request, body, response, changeId);
        }
        if (method !== 'GET' && method !== 'HEAD') return notAllowed(response, 'GET, HEAD');
        if (part) return await evidenceExport(response, changeId, part);
        const doc = await showChange(ctx(), changeId);
        if (!doc) return page(response, 404, notFoundPage(`No change ${changeId} in this stack.`));
        const report = await evidenceReport(ctx(), changeId);
        const flashId = url.searchParams.get('flash');
        return page(response, 200, renderChangePage({ doc, report, flash: flashId ? (flashes.get(flashId) ?? null) : null }));
      }
      if (method !== 'GET' && method !== 'HEAD') return notAllowed(response, 'GET, HEAD');
      if (path === `${CONSOLE_PATH}/`) return page(response, 200, await pages.changes(url));
      if (path === `${CONSOLE_PATH}/dashboard`) return page(response, 200, await pages.dashboard());
      if (path === `${CONSOLE_PATH}/policy`) return page(response, 200, await pages.policy());
      if (path === `${CONSOLE_PATH}/outbox`) return page(response, 200, await pages.outbox(url));
      return page(response, 404, notFoundPage(`No console page at ${path}.`));
    } catch (error) {
      return page(response, 500, layout({ title: 'Console error', section: 'changes', body: banner('bad', `The page could not be built: ${esc(describeError(error))}`) }));
    }
  };

  /** Approve / Reject: the chosen approver's signed link, posted to the approval API (decideThroughLink, as `nhigov approve`). */
  async function decide(request: IncomingMessage, body: Buffer, response: ServerResponse, changeId: string): Promise<true> {
    if (!sameOrigin(request)) return page(response, 403, layout({ title: 'Refused', section: 'changes', body: banner('bad', 'A decision can only be posted from the console itself.') }));
    const form = new URLSearchParams(body.toString('utf8'));
    const decision = form.get('decision');
    const approver = (form.get('approver') ?? '').trim();
    if ((decision !== 'approve' && decision !== 'reject') || !approver) {
      return page(response, 400, layout({ title: 'Bad request', section: 'changes', body: banner('bad', 'Choose an approver identity and Approve or Reject.') }));
    }
    let flash: Flash;
    try {
      const comment = (form.get('comment') ?? '').trim();
      const result = await decideThroughLink(ctx(), { changeId, approver, decision, channel: 'web', ...(comment ? { comment } : {}) });
      flash = result.ok
        ? { tone: 'ok', message: `${decision === 'approve' ? 'Approved' : 'Rejected'} as ${result.approver} through the approval API; the workflow took the decision${result.changeStatus ? ` (change status then: ${result.changeStatus})` : ''}.` }
        : { tone: 'bad', message: `Refused by the approval API (HTTP ${result.httpStatus}) ${result.reasonCode ?? result.reason ?? ''}: ${result.message ?? ''}` };
    } catch (error) {
      flash = { tone: 'bad', message: `No decision was taken: ${describeError(error)}` };
    }
    const flashId = randomBytes(9).toString('base64url');
    flashes.set(flashId, flash);
    if (flashes.size > MAX_FLASHES) flashes.delete(flashes.keys().next().value as string);
    return redirect(response, `${CONSOLE_PATH}/changes/${encodeURIComponent(changeId)}?flash=${flashId}`, 303);
  }

  /** The exports of `nhigov evidence CHANGE_ID --format json|jsonl|csv|html`, and `nhigov show --json`. */
  async function evidenceExport(response: ServerResponse, changeId: string, part: string): Promise<true> {
    if (part === 'show.json') {
      const doc = await showChange(ctx(), changeId);
      return doc ? send(response, 200, 'application/json', `${JSON.stringify(doc, null, 2)}\n`) : page(response, 404, notFoundPage(`No change ${changeId} in this stack.`));
    }
    const report = await evidenceReport(ctx(), changeId);
    if (!report) return page(response, 404, notFoundPage(`No change ${changeId} in this stack.`));
    if (part === 'evidence.json') return send(response, 200, 'application/json', `${JSON.stringify(report, null, 2)}\n`);
    if (part === 'evidence.html') return send(response, 200, 'text/html; charset=utf-8', renderEvidenceHtml(report, now()));
    const download = (ext: string) => ({ 'content-disposition': `attachment; filename="${changeId}-evidence.${ext}"` });
    if (part === 'evidence.csv') return send(response, 200, 'text/csv; charset=utf-8', toCsv(report.events), download('csv'));
    return send(response, 200, 'application/x-ndjson', toJsonl(report.events), download('jsonl'));
  }
}

/**
 * A decision must come from a console page: a browser sends Origin (and Sec-Fetch-Site) with a
 * form POST, so a page elsewhere cannot make the browser decide on the user's behalf.
 */
export function sameOrigin(request: Pick<IncomingMessage, 'headers'>): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

function notFoundPage(message: string): string {
  return layout({ title: 'Not found', section: 'changes', body: `${banner('warn', esc(message))}<p><a href="/console/">Back to the changes</a></p>` });
}

function page(response: ServerResponse, status: number, html: string): true {
  return send(response, status, CONSOLE_HEADERS['content-type'] as string, html, CONSOLE_HEADERS);
}

function send(response: ServerResponse, status: number, contentType: string, text: string, headers: Readonly<Record<string, string>> = {}): true {
  const bytes = Buffer.from(text, 'utf8');
  response.writeHead(status, { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...headers, 'content-type': contentType, 'content-length': String(bytes.length) });
  response.end(response.req?.method === 'HEAD' ? undefined : bytes);
  return true;
}

function redirect(response: ServerResponse, location: string, status: 301 | 303): true {
  response.writeHead(status, { location, 'content-length': '0', 'cache-control': 'no-store' });
  response.end();
  return true;
}

function notAllowed(response: ServerResponse, allow: string): true {
  response.writeHead(405, { allow, 'content-type': 'text/plain; charset=utf-8' });
  response.end(`method not allowed: use ${allow}`);
  return true;
}
