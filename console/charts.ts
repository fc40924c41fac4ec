import { esc } from './html.js';

/**
 * Small inline-SVG charts. Each is a <figure> whose SVG has a text alternative (role="img" and
 * an aria-label that states the figures) and whose numbers are also in a data table: colour is
 * never the only carrier of meaning.
 */

export interface Series {
  readonly name: string;
  readonly color: string;
  /** One value per category. */
  readonly values: readonly number[];
}

export interface BarChartModel {
  readonly id: string;
  readonly title: string;
  /** X axis labels, one per column. */
  readonly categories: readonly string[];
  readonly series: readonly Series[];
  /** The unit of the Y axis, for the text alternative ("changes", "approvals"). */
  readonly unit: string;
  readonly empty?: string;
}

const WIDTH = 560;
const HEIGHT = 220;
const PAD = { top: 12, right: 12, bottom: 44, left: 40 } as const;

/** Vertical bars, stacked when there is more than one series. */
export function stackedBarChart(model: BarChartModel): string {
  const totals = model.categories.map((_, i) => model.series.reduce((n, s) => n + (s.values[i] ?? 0), 0));
  const grand = totals.reduce((a, b) => a + b, 0);
  if (grand === 0) return emptyFigure(model.id, model.title, model.empty ?? 'Nothing recorded yet.');
  const max = niceMax(Math.max(...totals));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(1, model.categories.length);
  const barW = Math.max(2, Math.min(48, slot * 0.7));
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH;
  const bars: string[] = [];
  model.categories.forEach((category, i) => {
    let base = 0;
    const x = PAD.left + i * slot + (slot - barW) / 2;
    for (const s of model.series) {
      const v = s.values[i] ?? 0;
      if (v <= 0) continue;
      const top = y(base + v);
      bars.push(`<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${barW.toFixed(1)}" height="${(y(base) - top).toFixed(1)}" fill="${esc(s.color)}"><title>${esc(`${category}: ${v} ${s.name}`)}</title></rect>`);
      base += v;
    }
  });
  const labelEvery = Math.max(1, Math.ceil(model.categories.length / 8));
  const xLabels = model.categories
    .map((c, i) => (i % labelEvery === 0 ? `<text x="${(PAD.left + i * slot + slot / 2).toFixed(1)}" y="${HEIGHT - PAD.bottom + 16}" text-anchor="middle">${esc(c)}</text>` : ''))
    .join('');
  const summary = model.series.length > 1
    ? model.series.map((s) => `${s.name} ${s.values.reduce((a, b) => a + b, 0)}`).filter((t) => !t.endsWith(' 0')).join(', ')
    : model.categories.map((c, i) => `${c}: ${totals[i]}`).join(', ');
  const label = `${model.title}: ${grand} ${model.unit} in total; ${summary}`;
  const legend = model.series.length > 1
    ? `<ul class="legend">${model.series.map((s) => `<li><span class="swatch" style="background:${esc(s.color)}"></span>${esc(s.name)}</li>`).join('')}</ul>`
    : '';
  const svg = `<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" width="100%" role="img" aria-label="${esc(label)}" focusable="false">${axes(max, plotH)}${bars.join('')}${xLabels}</svg>`;
  const head = `<tr><th scope="col">${esc(model.unit === 'changes' ? 'period' : 'bucket')}</th>${model.series.map((s) => `<th scope="col" class="num">${esc(s.name)}</th>`).join('')}${model.series.length > 1 ? '<th scope="col" class="num">total</th>' : ''}</tr>`;
  const rows = model.categories
    .map((c, i) => `<tr><th scope="row">${esc(c)}</th>${model.series.map((s) => `<td class="num">${s.values[i] ?? 0}</td>`).join('')}${model.series.length > 1 ? `<td class="num">${totals[i]}</td>` : ''}</tr>`)
    .join('');
  return `<figure id="${esc(model.id)}" aria-labelledby="${esc(model.id)}-caption"><figcaption id="${esc(model.id)}-caption">${esc(model.title)}</figcaption>${svg}${legend}${dataTable(model.title, head, rows)}</figure>`;
}

export interface HorizontalBar {
  readonly label: string;
  readonly value: number;
  readonly color?: string;
  /** Shown after the value (e.g. the owner route of a reason code). */
  readonly note?: string;
}

/** One horizontal bar per item, largest first: counts by reason code, by route. */
export function horizontalBarChart(model: { id: string; title: string; unit: string; items: readonly HorizontalBar[]; empty?: string }): string {
  const items = [...model.items].filter((i) => i.value > 0).sort((a, b) => b.value - a.value || a.label.localeCompare(b.label));
  if (items.length === 0) return emptyFigure(model.id, model.title, model.empty ?? 'Nothing recorded yet.');
  const rowH = 22;
  const labelW = 210;
  const height = items.length * rowH + 8;
  const max = Math.max(...items.map((i) => i.value));
  const plotW = WIDTH - labelW - 60;
  const bars = items
    .map((item, i) => {
      const w = Math.max(2, (item.value / max) * plotW);
      const yPos = 4 + i * rowH;
      return `<text x="${labelW - 6}" y="${yPos + 14}" text-anchor="end">${esc(item.label)}</text><rect x="${labelW}" y="${yPos + 3}" width="${w.toFixed(1)}" height="${rowH - 8}" fill="${esc(item.color ?? '#486581')}"><title>${esc(`${item.label}: ${item.value}`)}</title></rect><text x="${(labelW + w + 5).toFixed(1)}" y="${yPos + 14}">${item.value}</text>`;
    })
    .join('');
  const label = `${model.title}: ${items.map((i) => `${i.label} ${i.value}`).join(', ')}`;
  const svg = `<svg viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-label="${esc(label)}" focusable="false">${bars}</svg>`;
  const hasNotes = items.some((i) => i.note);
  const head = `<tr><th scope="col">${esc(model.unit)}</th><th scope="col" class="num">count</th>${hasNotes ? '<th scope="col">routed to</th>' : ''}</tr>`;
  const rows = items.map((i) => `<tr><th scope="row">${esc(i.label)}</th><td class="num">${i.value}</td>${hasNotes ? `<td>${esc(i.note ?? '-')}</td>` : ''}</tr>`).join('');
  return `<figure id="${esc(model.id)}" aria-labelledby="${esc(model.id)}-caption"><figcaption id="${esc(model.id)}-caption">${esc(model.title)}</figcaption>${svg}${dataTable(model.title, head, rows)}</figure>`;
}

function axes(max: number, plotH: number): string {
  const ticks = [0, max / 2, max];
  const lines = ticks
    .map((t) => {
      const yPos = PAD.top + plotH - (t / max) * plotH;
      return `<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${yPos.toFixed(1)}" y2="${yPos.toFixed(1)}" stroke="#c4c4c4" stroke-width="1"/><text x="${PAD.left - 6}" y="${(yPos + 4).toFixed(1)}" text-anchor="end">${formatTick(t)}</text>`;
    })
    .join('');
  return `<g aria-hidden="true">${lines}<line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${PAD.top + plotH}" stroke="#4d4d4d"/></g>`;
}

function dataTable(title: string, head: string, rows: string): string {
  return `<details><summary>Data: ${esc(title)}</summary><table><thead>${head}</thead><tbody>${rows}</tbody></table></details>`;
}

function emptyFigure(id: string, title: string, message: string): string {
  return `<figure id="${esc(id)}" aria-labelledby="${esc(id)}-caption"><figcaption id="${esc(id)}-caption">${esc(title)}</figcaption><p class="muted">${esc(message)}</p></figure>`;
}

/** 1, 2, 5 × 10^n at or above `value` (at least 1): round axis maxima. */
export function niceMax(value: number): number {
  if (value <= 1) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

function formatTick(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

/** Colours per change status (distinct hues, each dark enough for its white neighbours). */
export const STATUS_COLORS: Readonly<Record<string, string>> = {
  VERIFIED: '#1b7f3b',
  NO_CHANGES: '#8a8f94',
  REJECTED: '#b45309',
  ROLLED_BACK: '#7c3aed',
  ESCALATED: '#c2185b',
  FAILED: '#9b0c0c',
  AWAITING_APPROVAL: '#d9a300',
  PLANNED: '#5c7080',
  APPLYING: '#1d5fd6',
  VERIFYING: '#0e7490',
  ROLLING_BACK: '#a78bfa',
};
