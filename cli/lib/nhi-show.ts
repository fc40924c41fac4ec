import { readSnapshot } from '../../lambdas/connectors/snapshot-reader.js';
import { findNhi, isGoverned, type NhiSnapshot } from '../../lambdas/domain/snapshot.js';
import type { StackContext } from './context.js';
import { heldStateViews, loadHeldStates, type HeldStateView } from './held-states.js';
import { paint, table, UsageError, type CliIo } from './io.js';

/** `nhigov show --nhi`: one governed NHI and its held states, judged against a fresh read. */
export interface NhiShowDocument {
  readonly nhi: string;
  readonly type: NhiSnapshot['type'];
  readonly arn: string;
  readonly readAt: string;
  readonly held: readonly HeldStateView[];
}

export async function showNhi(ctx: StackContext, ref: string): Promise<NhiShowDocument | null> {
  const now = new Date();
  const [snapshot, held] = await Promise.all([readSnapshot({ iam: ctx.clients.iam, secrets: ctx.clients.secrets, now: () => now }, { nhi: ref }), loadHeldStates(ctx)]);
  const { match, ambiguous } = findNhi(snapshot, ref);
  if (ambiguous) throw new UsageError(`${ref} names more than one NHI: name it by its ARN`);
  if (!match || !isGoverned(match)) return null;
  return { nhi: match.name, type: match.type, arn: match.arn, readAt: snapshot.takenAt, held: heldStateViews(held, snapshot, match) };
}

export function renderNhi(io: CliIo, doc: NhiShowDocument): string {
  const colour = { holds: 'green', drifted: 'red', unknown: 'yellow' } as const;
  const lines = [`${paint(io, 'bold', doc.nhi)}  ${doc.type}  ${doc.arn}`, `read ${doc.readAt}`, ''];
  if (doc.held.length === 0) return [...lines, 'no held states: no verified change left a state on it'].join('\n');
  lines.push(
    table(
      ['target', 'held', 'live', 'now', 'established by', 'last verified by'],
      doc.held.map((h) => [
        `${h.target.type} ${h.target.id}`,
        JSON.stringify(h.held),
        h.live ? JSON.stringify(h.live) : '-',
        paint(io, colour[h.verdict], h.verdict),
        `${h.establishedBy.changeId} ${h.establishedBy.actionId} (${h.establishedBy.trigger})`,
        h.lastVerifiedBy.changeId,
      ]),
    ),
  );
  return lines.join('\n');
}
