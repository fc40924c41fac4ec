import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { z } from 'zod';
import { changeIdForEvent } from '../../lambdas/domain/events.js';
import { parseIncomingEvent } from '../../lambdas/domain/signals/index.js';
import { PROJECT_ROOT } from '../../local/build.js';
import type { AwsClients } from '../../local/aws-clients.js';

const providerEventSchema = z.looseObject({ id: z.string(), source: z.string(), 'detail-type': z.string(), time: z.string().optional(), detail: z.record(z.string(), z.unknown()) });
export type ProviderEvent = z.infer<typeof providerEventSchema>;

export const FIXTURES = {
  health: 'aws-health-risk-credentials-exposed.json',
  guardDuty: 'guardduty-instance-credential-exfiltration.json',
  accessAnalyzer: 'access-analyzer-unused-access.json',
  securityHub: 'securityhub-iam-finding-imported.json',
  okta: 'okta-user-lifecycle-deactivate.json',
  cloudTrail: 'cloudtrail-iam-update-access-key.json',
} as const;

/**
 * A provider's documented sample event (test/fixtures/events), with its placeholders and sample
 * ids replaced: `replace` maps each text to its substitute, everywhere in the event.
 */
export function providerEvent(fixture: keyof typeof FIXTURES, replace: Readonly<Record<string, string>> = {}, edit?: (event: ProviderEvent) => void): ProviderEvent {
  let text = readFileSync(path.join(PROJECT_ROOT, 'test', 'fixtures', 'events', FIXTURES[fixture]), 'utf8');
  for (const [from, to] of Object.entries(replace)) text = text.split(from).join(to);
  const event = providerEventSchema.parse(JSON.parse(text));
  edit?.(event);
  return event;
}

/** The change ids the event starts, as ingest derives them. */
export function changeIdsOf(event: unknown): string[] {
  const parsed = parseIncomingEvent(event);
  if (parsed.outcome !== 'triggers') throw new Error(`the event starts no change: ${parsed.outcome === 'ignored' ? parsed.reason : parsed.error}`);
  return parsed.triggers.map((t) => changeIdForEvent(t.id));
}

/** Puts the event on `bus` with its real envelope, as the provider does (PutEvents). */
export async function putProviderEvent(clients: AwsClients, event: ProviderEvent, bus: string): Promise<void> {
  const out = await clients.events.send(
    new PutEventsCommand({
      Entries: [{ Source: event.source, DetailType: event['detail-type'], Detail: JSON.stringify(event.detail), EventBusName: bus, ...(event.time ? { Time: new Date(event.time) } : {}) }],
    }),
  );
  if ((out.FailedEntryCount ?? 0) > 0) throw new Error(`PutEvents refused the event: ${out.Entries?.[0]?.ErrorMessage ?? ''}`);
}
