import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { AwsCall, AwsProtocol } from './aws-request.js';

export const faultRuleSchema = z.strictObject({
  service: z.string().min(1),
  action: z.string().min(1),
  mode: z.enum(['throttle', 'error5xx', 'accessDenied', 'delay', 'swallow', 'lag', 'crash']),
  times: z.number().int().positive().max(1_000_000),
  ms: z.number().int().min(0).max(600_000).optional(),
  /** Only calls reaching into this account (an STS AssumeRole of a role there). */
  account: z.string().regex(/^\d{12}$/, 'a 12-digit account id').optional(),
});
export type FaultRule = z.infer<typeof faultRuleSchema>;

export interface ActiveFault extends FaultRule {
  readonly id: string;
  remaining: number;
  hits: number;
}

/** The fault rules (docs/cli.md, `nhigov fault`): each hits `times` matching calls, then expires. */
export class FaultBook {
  private rules: ActiveFault[] = [];
  private readonly hitsByMode = new Map<string, number>();

  add(rule: FaultRule): ActiveFault {
    const active: ActiveFault = { ...rule, id: randomUUID().slice(0, 8), remaining: rule.times, hits: 0 };
    this.rules.push(active);
    return active;
  }

  clear(): void {
    this.rules = [];
  }

  list(): ActiveFault[] {
    return this.rules.map((r) => ({ ...r }));
  }

  /**
   * Takes the first live rule matching the call, counting the hit. `swallow`, `lag` and `crash`
   * are about writes (the documented modes: the write never lands, or lands late; ours: the write lands and
   * its caller dies), so they never match a read; `crash` matches only calls a hosted handler made.
   */
  take(call: AwsCall, madeByHandler: boolean): ActiveFault | null {
    const rule = this.rules.find(
      (r) =>
        r.remaining > 0 &&
        r.service === call.service &&
        (r.action === '*' || r.action === call.action) &&
        (r.account === undefined || r.account === call.account) &&
        !(WRITE_ONLY_MODES.has(r.mode) && isRead(call.action)) &&
        (r.mode !== 'crash' || madeByHandler),
    );
    if (!rule) return null;
    rule.remaining -= 1;
    rule.hits += 1;
    this.hitsByMode.set(rule.mode, (this.hitsByMode.get(rule.mode) ?? 0) + 1);
    this.rules = this.rules.filter((r) => r.remaining > 0);
    return { ...rule };
  }

  counters(): Record<string, number> {
    return Object.fromEntries(this.hitsByMode);
  }
}

const WRITE_ONLY_MODES: ReadonlySet<FaultRule['mode']> = new Set(['swallow', 'lag', 'crash']);

/** Read-only API actions by name: they change nothing, so there is nothing to swallow or delay. */
export function isRead(action: string): boolean {
  return /^(Get|List|Describe|Query|Scan|BatchGet|Receive|Simulate|Generate)/.test(action);
}

export interface CannedResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

const IAM_XMLNS = 'https://iam.amazonaws.com/doc/2010-05-08/';

/** An AWS error in the wire format of the call's protocol, so the SDK parses it as AWS would. */
export function errorResponse(call: AwsCall, mode: 'throttle' | 'error5xx' | 'accessDenied'): CannedResponse {
  const requestId = randomUUID();
  const spec = {
    throttle: { status: 400, query: 'Throttling', json: call.service === 'dynamodb' ? 'ThrottlingException' : 'ThrottlingException', message: 'Rate exceeded' },
    error5xx: { status: 500, query: 'ServiceFailure', json: call.service === 'secretsmanager' ? 'InternalServiceError' : 'InternalFailure', message: 'We encountered an internal error. Please try again.' },
    accessDenied: { status: 403, query: 'AccessDenied', json: 'AccessDeniedException', message: `User is not authorized to perform: ${call.service}:${call.action}` },
  }[mode];
  const headers = { 'x-amzn-requestid': requestId, 'x-amz-request-id': requestId };
  if (call.protocol === 'query') {
    const body = `<ErrorResponse xmlns="${IAM_XMLNS}"><Error><Type>${spec.status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${spec.query}</Code><Message>${spec.message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
    return { status: spec.status, headers: { ...headers, 'content-type': 'text/xml' }, body };
  }
  const status = call.protocol === 'json' && spec.status === 403 ? 400 : spec.status;
  return {
    status,
    headers: { ...headers, 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': spec.json },
    body: JSON.stringify({ __type: spec.json, message: spec.message }),
  };
}

/** A success answer without forwarding (swallow, and lag's early answer). */
export function successResponse(call: AwsCall): CannedResponse {
  const requestId = randomUUID();
  const headers = { 'x-amzn-requestid': requestId, 'x-amz-request-id': requestId };
  if (call.protocol === 'query') {
    const body = `<${call.action}Response xmlns="${IAM_XMLNS}"><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${call.action}Response>`;
    return { status: 200, headers: { ...headers, 'content-type': 'text/xml' }, body };
  }
  return { status: 200, headers: { ...headers, 'content-type': contentTypeFor(call.protocol) }, body: '{}' };
}

function contentTypeFor(protocol: AwsProtocol): string {
  return protocol === 'json' ? 'application/x-amz-json-1.1' : 'application/json';
}
