import { z } from 'zod';
import { parseGovernanceEvent } from '../events.js';
import { accessAnalyzerSignal } from './access-analyzer.js';
import { guardDutySignal } from './guardduty.js';
import { healthSignal } from './health.js';
import { oktaSignal } from './okta.js';
import { securityHubSignal } from './security-hub.js';
import { cloudTrailSignal } from './cloudtrail.js';
import { invalid, providerEnvelope, triggers, type SignalContext, type SignalResult, type SignalSource } from './signal.js';

export type { RuleBus, SignalContext, SignalResult, SignalSource } from './signal.js';

/** The providers' events we map, one module each. */
export const SIGNAL_SOURCES: readonly SignalSource[] = [healthSignal, guardDutySignal, accessAnalyzerSignal, securityHubSignal, oktaSignal, cloudTrailSignal];

const routing = z.looseObject({ source: z.string(), 'detail-type': z.string() });

/**
 * The edge: any event that reaches ingest (or `nhigov event` / `plan`), parsed once and strictly
 * into the internal trigger type. A provider's event goes through its mapping; anything else must
 * be one of the four custom event types. Never throws.
 */
export function parseIncomingEvent(raw: unknown, context: SignalContext = {}): SignalResult {
  const head = routing.safeParse(raw);
  const signal = head.success ? SIGNAL_SOURCES.find((s) => s.matches(head.data.source, head.data['detail-type'])) : undefined;
  if (signal) {
    const envelope = providerEnvelope.safeParse(raw);
    return envelope.success ? signal.toTriggers(envelope.data, context) : invalid(envelope.error, 'envelope');
  }
  const parsed = parseGovernanceEvent(raw);
  return parsed.ok ? triggers([parsed.event]) : { outcome: 'invalid', error: parsed.error };
}
