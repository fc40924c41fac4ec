/**
 * The emulator's CloudTrail: for every IAM and Secrets Manager write the gateway forwards to moto,
 * the event CloudTrail would deliver to EventBridge's default bus ("AWS API Call via CloudTrail"),
 * with the caller's identity from its credentials (a hosted handler calls as its function's role).
 * An emulator feature: the handlers that receive these events cannot tell them from CloudTrail's.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { AwsCall } from './aws-request.js';
import type { RoleSession } from './function-roles.js';

const EVENT_SOURCES: Readonly<Record<string, string>> = { iam: 'iam.amazonaws.com', secretsmanager: 'secretsmanager.amazonaws.com' };
const READ_ONLY = /^(Get|List|Describe|Generate|Simulate|BatchGet)/;
/** What CloudTrail never records in clear. */
const HIDDEN = new Set(['secretString', 'secretBinary', 'password', 'oldPassword', 'newPassword']);
const CALL_PARAMS = new Set(['Action', 'Version']);

export interface CloudTrailOptions {
  /** EventBridge of moto itself: the delivery is not one of the stack's AWS calls. */
  readonly events: EventBridgeClient;
  readonly region: string;
  readonly accountId: string;
  /** The emulator's own access key id: calls signed with it are the account's root, as moto treats them. */
  readonly rootAccessKeyId: string;
  readonly onError: (error: unknown) => void;
}

export interface RecordedCall {
  readonly call: AwsCall;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly status: number;
  /** The hosted function that made the call, null for any other caller. */
  readonly functionName: string | null;
  /** The session of its role the call was signed with, when the gateway signed it as the function. */
  readonly session?: RoleSession | null;
}

/** The role a hosted function runs as, locally: named as the function. */
export function localFunctionRoleArn(accountId: string, functionName: string): string {
  return `arn:aws:iam::${accountId}:role/${functionName}`;
}

export class CloudTrail {
  constructor(private readonly options: CloudTrailOptions) {}

  /** Delivers the call's event, if CloudTrail would send one (a write of IAM or Secrets Manager), without holding up the caller. */
  record(recorded: RecordedCall): void {
    const detail = this.detailOf(recorded);
    if (!detail) return;
    const source = `aws.${recorded.call.service}`;
    this.options.events
      .send(new PutEventsCommand({ Entries: [{ Source: source, DetailType: 'AWS API Call via CloudTrail', Detail: JSON.stringify(detail), EventBusName: 'default' }] }))
      .catch((error: unknown) => this.options.onError(error));
  }

  detailOf({ call, headers, body, status, functionName, session }: RecordedCall): Record<string, unknown> | null {
    const eventSource = EVENT_SOURCES[call.service];
    if (!eventSource || READ_ONLY.test(call.action)) return null;
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    return {
      eventVersion: '1.09',
      userIdentity: session ? sessionIdentity(session, this.options.accountId) : this.identityOf(headers, functionName),
      eventTime: now,
      eventSource,
      eventName: call.action,
      awsRegion: this.options.region,
      sourceIPAddress: '127.0.0.1',
      userAgent: String(headers['user-agent'] ?? ''),
      requestParameters: requestParameters(call, body),
      responseElements: null,
      ...(status >= 400 ? { errorCode: `HTTP${status}` } : {}),
      requestID: randomUUID(),
      eventID: randomUUID(),
      readOnly: false,
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: this.options.accountId,
      eventCategory: 'Management',
    };
  }

  private identityOf(headers: IncomingHttpHeaders, functionName: string | null): Record<string, unknown> {
    const { accountId } = this.options;
    const accessKeyId = /Credential=([^/]+)\//.exec(String(headers.authorization ?? ''))?.[1] ?? '';
    if (functionName) {
      const roleArn = localFunctionRoleArn(accountId, functionName);
      return {
        type: 'AssumedRole',
        principalId: `AROALOCAL:${functionName}`,
        arn: `arn:aws:sts::${accountId}:assumed-role/${functionName}/${functionName}`,
        accountId,
        accessKeyId,
        sessionContext: { sessionIssuer: { type: 'Role', principalId: 'AROALOCAL', arn: roleArn, accountId, userName: functionName } },
      };
    }
    if (accessKeyId === this.options.rootAccessKeyId) return { type: 'Root', principalId: accountId, arn: `arn:aws:iam::${accountId}:root`, accountId, accessKeyId };
    // Another key: an IAM user's (the emulator does not say whose).
    return { type: 'IAMUser', principalId: accessKeyId, accountId, accessKeyId };
  }
}

/** A role session's identity as CloudTrail records it: the role's unique id, the session's ARN and key. */
function sessionIdentity(session: RoleSession, accountId: string): Record<string, unknown> {
  return {
    type: 'AssumedRole',
    principalId: session.assumedRoleId,
    arn: session.arn,
    accountId,
    accessKeyId: session.accessKeyId,
    sessionContext: { sessionIssuer: { type: 'Role', principalId: session.roleId, arn: session.roleArn, accountId, userName: session.roleArn.split('/').pop() ?? '' } },
  };
}

/** The call's parameters as CloudTrail writes them: lowerCamel names, scalars and tag lists, secrets hidden. */
function requestParameters(call: AwsCall, body: Buffer): Record<string, unknown> {
  const entries: Array<[string, unknown]> = [];
  if (call.protocol === 'query') {
    const form = new URLSearchParams(body.toString('utf8'));
    for (const [key, value] of form) if (!CALL_PARAMS.has(key) && !key.includes('.')) entries.push([key, value]);
    const tags = [...form.keys()].filter((key) => /^Tags\.member\.\d+\.Key$/.test(key)).map((key) => ({ key: form.get(key) ?? '', value: form.get(key.replace(/Key$/, 'Value')) ?? '' }));
    const tagKeys = [...form].filter(([key]) => /^TagKeys\.member\.\d+$/.test(key)).map(([, value]) => value);
    if (tags.length > 0) entries.push(['Tags', tags]);
    if (tagKeys.length > 0) entries.push(['TagKeys', tagKeys]);
  } else if (call.protocol === 'json' && body.length > 0) {
    try {
      const parsed: unknown = JSON.parse(body.toString('utf8'));
      if (parsed && typeof parsed === 'object') {
        for (const [key, value] of Object.entries(parsed)) {
          if (value === null || typeof value !== 'object') entries.push([key, value]);
          else if (key === 'Tags' && Array.isArray(value)) entries.push([key, value.map((tag: unknown) => (tag && typeof tag === 'object' && 'Key' in tag ? { key: tag.Key, value: 'Value' in tag ? tag.Value : '' } : {}))]);
          else if (key === 'TagKeys' && Array.isArray(value)) entries.push([key, value]);
        }
      }
    } catch {
      // Not JSON: CloudTrail would record no parameters either.
    }
  }
  return Object.fromEntries(
    entries.map(([key, value]) => {
      const name = `${key.charAt(0).toLowerCase()}${key.slice(1)}`;
      return [name, HIDDEN.has(name) ? 'HIDDEN_DUE_TO_SECURITY_REASONS' : value];
    }),
  );
}
