import { writeFileSync } from 'node:fs';
import type { EvidenceEvent } from '../../lambdas/domain/evidence.js';
import type { TimeWindow } from '../../lambdas/stores/evidence-store.js';
import type { CommandRegistrar } from '../main.js';
import { stackContext } from '../lib/context.js';
import { EVIDENCE_FORMATS, summarizeEvent, toCsv, toJsonl, type EvidenceFormat } from '../lib/evidence-format.js';
import { renderEvidenceHtml } from '../lib/evidence-html.js';
import { evidenceQuery, evidenceReport, type EvidenceQueryDocument, type EvidenceReport } from '../lib/evidence-report.js';
import { summarize, verifyAll, verifyChange, type ChainCheck, type VerifyDocument } from '../lib/evidence-verify.js';
import { loadAnchorsFor } from '../lib/checkpoint-verify.js';
import { invokeCheckpoint } from '../lib/checkpoint-invoke.js';
import { OperationFailed, paint, table, UsageError, type CliIo } from '../lib/io.js';

interface EvidenceOptions {
  format?: string;
  nhi?: string;
  from?: string;
  to?: string;
  out?: string;
}

export const registerEvidence: CommandRegistrar = (program, io) => {
  const evidence = program
    .command('evidence')
    .description('the evidence trail of a change (or of an NHI, or a time window), and its verification')
    .argument('[changeId]', 'the change whose trail to print')
    .option('--format <format>', `json | jsonl | csv | html (default: a timeline for people; json with --json)`)
    .option('--nhi <name>', 'events about this NHI across changes (GSI byNhi)')
    .option('--from <time>', 'events at or after this ISO 8601 time (GSI byDay)')
    .option('--to <time>', 'events at or before this ISO 8601 time (default: now)')
    .option('--out <file>', 'write the export to FILE instead of stdout')
    .action(async (changeId: string | undefined, options: EvidenceOptions) => {
      const out = io();
      const format = formatOf(options.format, out.json);
      const window = windowOf(options);
      if (changeId && (options.nhi || window)) throw new UsageError('give a change id, or --nhi / --from / --to, not both');
      if (!changeId && !options.nhi && !window) throw new UsageError('give a change id, --nhi NAME, or a time window (--from TIME [--to TIME]); `nhigov evidence verify` checks chains');
      const ctx = await stackContext();
      if (changeId) {
        const report = await evidenceReport(ctx, changeId);
        if (!report) throw new UsageError(`no change ${changeId}`);
        emit(out, options.out, format, report, report.events, () => renderEvidenceHtml(report), () => renderReport(out, report));
        return;
      }
      const doc = await evidenceQuery(ctx, { ...(options.nhi ? { nhi: options.nhi } : {}), ...(window ? { window } : {}) });
      if (format === 'html') throw new UsageError('--format html is the audit page of one change: give a change id');
      emit(out, options.out, format, doc, doc.events, () => '', () => renderQuery(doc));
    });

  evidence
    .command('verify')
    .description('recompute hash chains (one change, or every change); exit 1 naming the first broken event')
    .argument('[changeId]', 'verify only this change')
    .action(async (changeId: string | undefined) => {
      const out = io();
      const ctx = await stackContext();
      let doc: VerifyDocument;
      if (changeId) {
        const check = await verifyChange(ctx, changeId);
        if (!check) throw new UsageError(`no change ${changeId}`);
        doc = summarize([check], (await loadAnchorsFor(ctx.checkpoints, [changeId])).reach);
      } else {
        doc = await verifyAll(ctx);
      }
      out.result(doc, () => renderVerify(out, doc));
      const first = doc.results.find((r) => !r.ok);
      if (first) throw new OperationFailed(`evidence chain broken: ${describeBreak(first)}${doc.broken > 1 ? ` (and ${doc.broken - 1} more chain(s))` : ''}`);
      const reach = doc.checkpoints;
      if (reach && !reach.ok) throw new OperationFailed(`evidence checkpoints broken at checkpoint ${reach.brokenAt}: ${reach.reason}`);
    });

  evidence
    .command('checkpoint')
    .description('sign a checkpoint of the evidence heads of the changes in flight now (the stack does it hourly, and when each change ends)')
    .action(async () => {
      const out = io();
      const ctx = await stackContext();
      const written = await invokeCheckpoint(ctx, 'scheduled');
      out.result(written, () => `checkpoint ${written.number} (${written.hash.slice(0, 16)}): ${written.heads} change(s) in flight${written.policy ? `, policy mark ${written.policy.version.slice(0, 12)} signed at ${written.policy.signedAt}` : ''}`);
    });
};

function formatOf(format: string | undefined, json: boolean): EvidenceFormat | 'text' {
  if (format === undefined) return json ? 'json' : 'text';
  if (!(EVIDENCE_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be one of ${EVIDENCE_FORMATS.join(', ')}, not "${format}"`);
  if (json && format !== 'json') throw new UsageError(`--json prints one JSON document: it cannot be combined with --format ${format}`);
  return format as EvidenceFormat;
}

function windowOf(options: EvidenceOptions): TimeWindow | undefined {
  if (!options.from && !options.to) return undefined;
  if (!options.from) throw new UsageError('--to needs --from');
  return { from: isoTime(options.from, '--from'), to: isoTime(options.to ?? new Date().toISOString(), '--to') };
}

function isoTime(text: string, flag: string): string {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new UsageError(`${flag} must be an ISO 8601 time, not "${text}"`);
  return new Date(ms).toISOString();
}

/** json: one document (printed through io, so --json holds); other formats: the export as is. */
function emit(out: CliIo, file: string | undefined, format: EvidenceFormat | 'text', doc: unknown, events: readonly EvidenceEvent[], html: () => string, human: () => string): void {
  const text = format === 'jsonl' ? toJsonl(events) : format === 'csv' ? toCsv(events) : format === 'html' ? html() : format === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : null;
  if (file) {
    writeFileSync(file, text ?? `${human()}\n`);
    out.info(`wrote ${events.length} event(s) as ${format} to ${file}`);
    return;
  }
  if (text === null) {
    out.result(doc, human);
    return;
  }
  process.stdout.write(text);
}

function renderReport(out: CliIo, report: EvidenceReport): string {
  const chain = report.chain.ok
    ? paint(out, 'green', `chain verified (${report.chain.events} events${report.chain.complete ? ', closed by COMPLETED' : ', in flight'})`)
    : paint(out, 'red', `chain BROKEN at seq ${report.chain.brokenAt}: ${report.chain.reason}`);
  return [
    `${paint(out, 'bold', report.changeId)}  ${report.status ?? 'unindexed'}  ${report.trigger ?? ''}  ${report.createdAt ?? ''}`,
    `policy ${report.policyVersions.map((v) => v.slice(0, 12)).join(', ') || '-'}  ${chain}`,
    ...report.chain.warnings.map((w) => paint(out, 'yellow', `warning: ${w}`)),
    '',
    table(['seq', 'at', 'type', 'actor', 'nhi', 'action', 'reason', 'details'], report.events.map((e) => [e.seq, e.at, e.type, e.actor, e.nhi ?? '', e.actionId ?? '', e.reasonCode ?? '', summarizeEvent(e)])),
  ].join('\n');
}

function renderQuery(doc: EvidenceQueryDocument): string {
  if (doc.events.length === 0) return 'no evidence matches';
  return table(['change', 'seq', 'at', 'type', 'nhi', 'action', 'reason', 'details'], doc.events.map((e) => [e.changeId, e.seq, e.at, e.type, e.nhi ?? '', e.actionId ?? '', e.reasonCode ?? '', summarizeEvent(e)]));
}

function renderVerify(out: CliIo, doc: VerifyDocument): string {
  const shown = doc.results.length <= 50 ? doc.results : doc.results.filter((r) => !r.ok);
  const lines = shown.map((r) =>
    r.ok
      ? `${paint(out, 'green', 'ok    ')} ${r.changeId}  ${r.events} events  ${r.status ?? 'unindexed'}  head ${r.head ? `${r.head.seq}:${r.head.hash.slice(0, 16)}` : '-'}${r.warnings.length ? `  (${r.warnings.join('; ')})` : ''}`
      : `${paint(out, 'red', 'BROKEN')} ${describeBreak(r)}`,
  );
  lines.push(doc.ok ? `${doc.changes} chain(s), ${doc.events} event(s): all verify` : `${doc.broken} of ${doc.changes} chain(s) broken`);
  const reach = doc.checkpoints;
  if (reach) {
    const anchored = doc.results.filter((r) => r.anchored).length;
    lines.push(
      reach.ok
        ? `${reach.count} signed checkpoint(s)${reach.latest ? `, latest ${reach.latest.number} at ${reach.latest.at}` : ''}: ${anchored} of ${doc.changes} chain(s) anchored; not covered: events since a running change's last checkpoint`
        : paint(out, 'red', `checkpoints BROKEN at ${reach.brokenAt}: ${reach.reason}`),
    );
  }
  return lines.join('\n');
}

function describeBreak(check: ChainCheck): string {
  return `${check.changeId} at seq ${check.brokenAt}${check.brokenType ? ` (${check.brokenType})` : ''}: ${check.reason}`;
}
