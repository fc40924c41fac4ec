import { canonicalJson } from '../../lambdas/domain/canonical.js';
import type { EvidenceEvent } from '../../lambdas/domain/evidence.js';

export const EVIDENCE_FORMATS = ['json', 'jsonl', 'csv', 'html'] as const;
export type EvidenceFormat = (typeof EVIDENCE_FORMATS)[number];

/** The CONTRACT's field order: one event per line, exactly the stored event. */
const FIELDS = ['changeId', 'seq', 'type', 'at', 'actor', 'nhi', 'actionId', 'reasonCode', 'policyVersion', 'data', 'prevHash', 'hash'] as const;

/** One event per line, in the contract's field order (each line is the event as hashed, minus nothing). */
export function toJsonl(events: readonly EvidenceEvent[]): string {
  return events.map((event) => JSON.stringify(ordered(event))).join('\n') + (events.length ? '\n' : '');
}

/**
 * RFC 4180 CSV with a header; `data` is its canonical JSON (the exact text hashed), so a row can
 * be re-hashed. Text cells that a spreadsheet would run as a formula (= + - @ tab CR) get a
 * leading ' (OWASP CSV injection): evidence carries strings from events and targets.
 */
export function toCsv(events: readonly EvidenceEvent[]): string {
  const rows = events.map((event) =>
    FIELDS.map((field) => {
      const value = event[field];
      if (value === undefined) return '';
      if (field === 'data') return csvCell(canonicalJson(value));
      if (typeof value === 'number') return String(value);
      return csvCell(defuseFormula(String(value)));
    }).join(','),
  );
  return [FIELDS.join(','), ...rows].join('\r\n') + '\r\n';
}

function csvCell(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function defuseFormula(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

function ordered(event: EvidenceEvent): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of FIELDS) if (event[field] !== undefined) out[field] = event[field];
  for (const [key, value] of Object.entries(event)) if (!(key in out)) out[key] = value;
  return out;
}

/** A short, one-line summary of an event for the terminal timeline. */
export function summarizeEvent(event: EvidenceEvent): string {
  const data = event.data as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of ['decision', 'status', 'planHash', 'observed', 'message', 'refused', 'attempt', 'error', 'cause', 'comment', 'approver', 'decidedBy']) {
    const value = data[key];
    if (value === undefined || value === '') continue;
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    parts.push(`${key}=${key === 'planHash' ? text.slice(0, 12) : text}`);
  }
  if (Array.isArray(data.actions)) parts.push(`actions=${data.actions.length}`);
  const line = parts.join(' ');
  return line.length > 100 ? `${line.slice(0, 97)}...` : line;
}
