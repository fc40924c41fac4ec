import type { ChangeSummary } from '../../cli/lib/changes.js';
import { IN_FLIGHT_STATUSES, TERMINAL_STATUSES } from '../../lambdas/domain/status.js';
import { age, esc, type PageModel, reasonCode, statusPill } from '../html.js';

/** A row of the changes list: `nhigov changes`' summary plus the owners from its plan. */
export interface ChangeRow extends ChangeSummary {
  readonly owners: readonly string[];
}

export interface ChangesPageModel {
  readonly rows: readonly ChangeRow[];
  /** The status filter, or null for all. */
  readonly status: string | null;
  readonly now: Date;
  /** The viewer turned the automatic reload off. */
  readonly refreshPaused: boolean;
}

/** Seconds between reloads while a change is being worked on, and while one only waits for a person. */
export const REFRESH_BUSY_SECONDS = 2;
export const REFRESH_WAITING_SECONDS = 10;

/** How often a page about these changes reloads itself: fast while work is under way, never when all are settled. */
export function refreshFor(statuses: readonly string[]): number | undefined {
  if (statuses.some((s) => s !== 'AWAITING_APPROVAL' && (IN_FLIGHT_STATUSES as readonly string[]).includes(s))) return REFRESH_BUSY_SECONDS;
  if (statuses.includes('AWAITING_APPROVAL')) return REFRESH_WAITING_SECONDS;
  return undefined;
}

const FILTERS = [...IN_FLIGHT_STATUSES, ...TERMINAL_STATUSES];

export function renderChangesPage(model: ChangesPageModel): PageModel {
  const rows = model.status ? model.rows.filter((r) => r.status === model.status) : model.rows;
  const refresh = refreshFor(model.rows.map((r) => r.status));
  const inFlight = model.rows.filter((r) => (IN_FLIGHT_STATUSES as readonly string[]).includes(r.status)).length;
  const query = (params: Record<string, string | null>) => {
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v) search.set(k, v);
    const text = search.toString();
    return text ? `?${text}` : '';
  };
  const refreshNote = refresh
    ? model.refreshPaused
      ? `<p class="muted">Automatic refresh is paused. <a href="/console/${esc(query({ status: model.status }))}">Resume automatic refresh</a></p>`
      : `<p class="muted">${inFlight} change${inFlight === 1 ? '' : 's'} in flight: this page reloads every ${refresh} s. <a href="/console/${esc(query({ status: model.status, refresh: 'off' }))}">Pause automatic refresh</a></p>`
    : '';
  const options = [`<option value=""${model.status ? '' : ' selected'}>All statuses</option>`]
    .concat(FILTERS.map((s) => `<option value="${esc(s)}"${s === model.status ? ' selected' : ''}>${esc(s)} (${model.rows.filter((r) => r.status === s).length})</option>`))
    .join('');
  const filter = `<form class="filters" method="get" action="/console/" role="search" aria-label="Filter changes">
<div><label for="status-filter">Status</label><br><select id="status-filter" name="status">${options}</select></div>
${model.refreshPaused ? '<input type="hidden" name="refresh" value="off">' : ''}<div><button type="submit">Filter</button></div>
</form>`;
  const body = rows.length
    ? `<table id="changes">
<caption>${rows.length} of ${model.rows.length} change${model.rows.length === 1 ? '' : 's'}${model.status ? ` with status ${esc(model.status)}` : ''}, newest first</caption>
<thead><tr><th scope="col">Change</th><th scope="col">Status</th><th scope="col">Trigger</th><th scope="col">Owner(s)</th><th scope="col" class="num">Actions</th><th scope="col">Reason codes</th><th scope="col">Age</th></tr></thead>
<tbody>
${rows.map((r) => row(r, model.now)).join('\n')}
</tbody>
</table>`
    : `<p id="changes-empty">${model.rows.length ? `No change has status ${esc(model.status)}.` : 'No change yet. Send an event (<code>nhigov event FILE</code>) or run <code>npm start</code>.'}</p>`;
  return {
    title: model.status ? `Changes: ${model.status}` : 'Changes',
    section: 'changes',
    body: `${filter}\n${refreshNote}\n${body}`,
    ...(refresh && !model.refreshPaused ? { refreshSeconds: refresh } : {}),
  };
}

function row(r: ChangeRow, now: Date): string {
  return `<tr data-change-id="${esc(r.changeId)}" data-status="${esc(r.status)}">
<th scope="row"><a href="/console/changes/${encodeURIComponent(r.changeId)}"><code>${esc(r.changeId)}</code></a></th>
<td>${statusPill(r.status)}</td>
<td>${esc(r.trigger)}</td>
<td>${r.owners.length ? r.owners.map((o) => esc(o)).join('<br>') : '<span class="muted">-</span>'}</td>
<td class="num">${r.actions}</td>
<td>${r.reasonCodes.length ? r.reasonCodes.map(reasonCode).join(' ') : '<span class="muted">-</span>'}</td>
<td><span title="${esc(r.createdAt)}">${esc(age(r.createdAt, now))}</span></td>
</tr>`;
}

