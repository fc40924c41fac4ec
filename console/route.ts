import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decideThroughLink } from '../cli/lib/approvals.js';
import { campaignStatus, listCampaigns } from '../cli/lib/attestations.js';
import { listChanges, showChange } from '../cli/lib/changes.js';
import type { StackContext, StackTarget } from '../cli/lib/context.js';
import { toCsv, toJsonl } from '../cli/lib/evidence-format.js';
import { renderEvidenceHtml } from '../cli/lib/evidence-html.js';
import { evidenceReport } from '../cli/lib/evidence-report.js';
import { policyStatus } from '../cli/lib/policy-status.js';
import { describeError } from '../lambdas/domain/reasons.js';
import { dashboardFigures } from './figures.js';
import { refusedHost } from './host.js';
import { banner, CONSOLE_HEADERS, esc, layout, SECTIONS, type NavEntry, type PageModel } from './html.js';
import { readIdentities, type PlanCache } from './identities.js';
import { renderAttestationPage } from './pages/attestation.js';
import { renderChangePage } from './pages/change.js';
import { renderChangesPage, type ChangeRow } from './pages/changes.js';
import { renderDashboardPage } from './pages/dashboard.js';
import { renderIdentitiesPage } from './pages/identities.js';
import { renderPolicyPage } from './pages/policy.js';

export const CONSOLE_PATH = '/console';

/** Answers true when it handled the request (the local gateway's route signature). */
export type ConsoleRoute = (request: IncomingMessage, body: Buffer, response: ServerResponse) => Promise<boolean>;

/** A page a host adds to the console (the local gateway's Outbox): served at /console/ID, listed after the console's own. */
export interface ExtraPage {
  readonly id: string;
  readonly label: string;
  render(url: URL): Promise<PageModel>;
}

export interface ConsoleOptions {
  /** The stack the console looks at, or how to build its context on the first request. */
  readonly context: StackContext | (() => Promise<StackContext>);
  /** The port the console is reached on: only Host 127.0.0.1:PORT or localhost:PORT is served. */
  readonly port: number | (() => number);
  readonly extraPages?: readonly ExtraPage[];
  readonly clock?: () => Date;
}

interface Flash {
  readonly tone: 'ok' | 'bad';
  readonly message: string;
}

const CHANGE_PATH = /^\/console\/changes\/([A-Za-z0-9._:-]{1,128})(?:\/(decision|evidence\.json|evidence\.jsonl|evidence\.csv|evidence\.html|show\.json))?\/?$/;
/** Decision outcomes kept for the page the browser is redirected to (oldest dropped first). */
const MAX_FLASHES = 200;

/** The console: server-rendered pages over the same library the CLI uses, for one stack. */
export function consoleRoute(options: ConsoleOptions): ConsoleRoute {
  const now = options.clock ?? (() => new Date());
  const port = (): number => (typeof options.port === 'number' ? options.port : options.port());
  const extraPages = options.extraPages ?? [];
  const nav: NavEntry[] = [...SECTIONS, ...extraPages.map((p) => ({ id: p.id, label: p.label, href: `${CONSOLE_PATH}/${p.id}` }))];
  const owners = new Map<string, readonly string[]>();
  const plans: PlanCache = new Map();
  const flashes = new Map<string, Flash>();
  let target: StackTarget | null = null;
  let loading: Promise<StackContext> | undefined;

  /** The context, built once (a failed build is tried again on the next request). */
  const context = (): Promise<StackContext> => {
    const source = options.context;
    if (typeof source !== 'function') return Promise.resolve(source);
    loading ??= source().then(
      (ctx) => {
        target = ctx.target;
        return ctx;
      },
      (error: unknown) => {
        loading = undefined;
        throw error;
      },
    );
    return loading;
  };
  if (typeof options.context !== 'function') target = options.context.target;

  const page = (response: ServerResponse, status: number, model: PageModel): true =>
    send(response, status, CONSOLE_HEADERS['content-type'] ?? 'text/html; charset=utf-8', layout(model, { target, nav }), CONSOLE_HEADERS);
  const notFound = (response: ServerResponse, message: string): true =>
    page(response, 404, { title: 'Not found', section: 'changes', body: `${banner('warn', esc(message))}<p><a href="/console/">Back to the changes</a></p>` });

  const ownersOf = async (ctx: StackContext, changeId: string): Promise<readonly string[]> => {
    const known = owners.get(changeId);
    if (known) return known;
    const record = await ctx.changes.get(changeId);
    if (!record?.planHash) return [];
    const plan = await ctx.plans.get(record.planHash).catch(() => null);
    if (!plan) return [];
    const found = plan.approval.owners;
    owners.set(changeId, found); // plans are immutable: the owners of a planned change never change
    return found;
  };

  type Render = (ctx: StackContext, url: URL) => Promise<PageModel>;
  const changesPage: Render = async (ctx, url) => {
    const summaries = await listChanges(ctx);
    const rows: ChangeRow[] = await Promise.all(summaries.map(async (s) => ({ ...s, owners: await ownersOf(ctx, s.changeId) })));
    return renderChangesPage({ rows, status: url.searchParams.get('status') || null, now: now(), refreshPaused: url.searchParams.get('refresh') === 'off' });
  };
  const identitiesPage: Render = async (ctx) => {
    const at = now();
    return renderIdentitiesPage({ view: await readIdentities(ctx, at, plans), now: at });
  };
  const dashboardPage: Render = async (ctx) => {
    const [summaries, chains] = await Promise.all([listChanges(ctx), ctx.evidence.listAllChains()]);
    const at = now();
    return renderDashboardPage({ figures: dashboardFigures(summaries, chains, at), now: at });
  };
  const policyPage: Render = async (ctx) => {
    const at = now();
    // The policy high-water mark of the signed checkpoints: a superseded version in ACTIVE shows as invalid.
    const mark = (await ctx.checkpoints.latest())?.body.policy ?? null;
    return renderPolicyPage({ status: await policyStatus(ctx.policies, ctx.outputs.policyPublicKeyPem, at, mark), now: at });
  };
  const attestationPage: Render = async (ctx, url) => {
    const chosen = url.searchParams.get('campaign');
    const id = chosen && /^att-[0-9a-f]{24}$/.test(chosen) ? chosen : undefined;
    const [campaign, campaigns] = await Promise.all([campaignStatus(ctx, id), listCampaigns(ctx)]);
    return renderAttestationPage({ campaign, campaigns, now: now() });
  };
  /** Path → page, the console's own then the host's. */
  const pages = new Map<string, Render>([
    [`${CONSOLE_PATH}/`, changesPage],
    [`${CONSOLE_PATH}/identities`, identitiesPage],
    [`${CONSOLE_PATH}/attestation`, attestationPage],
    [`${CONSOLE_PATH}/dashboard`, dashboardPage],
    [`${CONSOLE_PATH}/policy`, policyPage],
    ...extraPages.map((extra): [string, Render] => [`${CONSOLE_PATH}/${extra.id}`, (_ctx, url) => extra.render(url)]),
  ]);

  return async (request, body, response) => {
    const url = new URL(request.url ?? '/', 'http://console.local');
    const path = url.pathname;
    if (path !== CONSOLE_PATH && !path.startsWith(`${CONSOLE_PATH}/`)) return false;
    if (refusedHost(request, response, port())) return true;
    const method = request.method ?? 'GET';
    try {
      if (path === CONSOLE_PATH) return redirect(response, `${CONSOLE_PATH}/`, 301);
      const ctx = await context();
      const change = CHANGE_PATH.exec(path);
      if (change?.[1]) {
        const changeId = change[1];
        const part = change[2];
        if (part === 'decision') {
          if (method !== 'POST') return notAllowed(response, 'POST');
          return await decide(ctx, request, body, response, changeId);
        }
        if (method !== 'GET' && method !== 'HEAD') return notAllowed(response, 'GET, HEAD');
        if (part) return await evidenceExport(ctx, response, changeId, part);
        const doc = await showChange(ctx, changeId);
        if (!doc) return notFound(response, `No change ${changeId} in this stack.`);
        const report = await evidenceReport(ctx, changeId);
        const flashId = url.searchParams.get('flash');
        return page(response, 200, renderChangePage({ doc, report, flash: flashId ? (flashes.get(flashId) ?? null) : null }));
      }
      if (method !== 'GET' && method !== 'HEAD') return notAllowed(response, 'GET, HEAD');
      const render = pages.get(path);
      if (!render) return notFound(response, `No console page at ${path}.`);
      return page(response, 200, await render(ctx, url));
    } catch (error) {
      return page(response, 500, { title: 'Console error', section: 'changes', body: banner('bad', `The page could not be built: ${esc(describeError(error))}`) });
    }
  };

  /** Approve / Reject: the chosen approver's signed link, posted to the approval API (decideThroughLink, as `nhigov approve`). */
  async function decide(ctx: StackContext, request: IncomingMessage, body: Buffer, response: ServerResponse, changeId: string): Promise<true> {
    if (!sameOrigin(request)) return page(response, 403, { title: 'Refused', section: 'changes', body: banner('bad', 'A decision can only be posted from the console itself.') });
    const form = new URLSearchParams(body.toString('utf8'));
    const decision = form.get('decision');
    const approver = (form.get('approver') ?? '').trim();
    if ((decision !== 'approve' && decision !== 'reject') || !approver) {
      return page(response, 400, { title: 'Bad request', section: 'changes', body: banner('bad', 'Choose an approver identity and Approve or Reject.') });
    }
    let flash: Flash;
    try {
      const comment = (form.get('comment') ?? '').trim();
      const result = await decideThroughLink(ctx, { changeId, approver, decision, channel: 'web', ...(comment ? { comment } : {}) });
      flash = result.ok
        ? { tone: 'ok', message: `${decision === 'approve' ? 'Approved' : 'Rejected'} as ${result.approver} through the approval API; the workflow took the decision${result.changeStatus ? ` (change status then: ${result.changeStatus})` : ''}.` }
        : { tone: 'bad', message: `Refused by the approval API (HTTP ${result.httpStatus}) ${result.reasonCode ?? result.reason ?? ''}: ${result.message ?? ''}` };
    } catch (error) {
      flash = { tone: 'bad', message: `No decision was taken: ${describeError(error)}` };
    }
    const flashId = randomBytes(9).toString('base64url');
    flashes.set(flashId, flash);
    const oldest = flashes.keys().next();
    if (flashes.size > MAX_FLASHES && !oldest.done) flashes.delete(oldest.value);
    return redirect(response, `${CONSOLE_PATH}/changes/${encodeURIComponent(changeId)}?flash=${flashId}`, 303);
  }

  /** The exports of `nhigov evidence CHANGE_ID --format json|jsonl|csv|html`, and `nhigov show --json`. */
  async function evidenceExport(ctx: StackContext, response: ServerResponse, changeId: string, part: string): Promise<true> {
    if (part === 'show.json') {
      const doc = await showChange(ctx, changeId);
      return doc ? send(response, 200, 'application/json', `${JSON.stringify(doc, null, 2)}\n`) : notFound(response, `No change ${changeId} in this stack.`);
    }
    const report = await evidenceReport(ctx, changeId);
    if (!report) return notFound(response, `No change ${changeId} in this stack.`);
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
