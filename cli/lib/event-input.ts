import { randomUUID } from 'node:crypto';
import type { GovernanceEvent } from '../../lambdas/domain/events.js';
import { parseIncomingEvent } from '../../lambdas/domain/signals/index.js';
import { readJsonInput } from './input.js';
import { UsageError, type CliIo } from './io.js';

/** An event file's triggers, or null when the event calls for nothing (already reported). */
export interface EventInput {
  /** The event as read, with the id given when it had none. */
  readonly raw: unknown;
  readonly triggers: readonly GovernanceEvent[];
}

/**
 * Reads FILE (or stdin), gives it an id `PREFIX-uuid` when it has none, and parses it once, as
 * ingest does. A malformed or unknown event is INPUT_INVALID (exit 2); an event that calls for
 * nothing is reported as ignored, with why, and gives null.
 */
export function readEventInput(out: CliIo, file: string, idPrefix: string): EventInput | null {
  const read = readJsonInput(file);
  const raw = read && typeof read === 'object' && !Array.isArray(read) && !('id' in read) ? { ...read, id: `${idPrefix}-${randomUUID()}` } : read;
  const parsed = parseIncomingEvent(raw);
  if (parsed.outcome === 'invalid') throw new UsageError(`INPUT_INVALID: ${parsed.error}`);
  if (parsed.outcome === 'ignored') {
    out.result({ ignored: true, reason: parsed.reason }, () => `event ignored: ${parsed.reason}\n`);
    return null;
  }
  return { raw, triggers: parsed.triggers };
}
