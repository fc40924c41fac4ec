import type { IncomingHttpHeaders } from 'node:http';

export type AwsProtocol = 'query' | 'json' | 'rest';

export interface AwsCall {
  /** Signing name from the credential scope: iam, secretsmanager, dynamodb, states, ... */
  readonly service: string;
  readonly action: string;
  readonly protocol: AwsProtocol;
  /** The account a call reaches into, where the request names it: the role's account of an STS AssumeRole. */
  readonly account?: string;
}

/** Names the service and action of a signed AWS request, whatever its protocol. */
export function identifyAwsCall(method: string, url: string, headers: IncomingHttpHeaders, body: Buffer): AwsCall | null {
  const auth = String(headers.authorization ?? '');
  const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(auth);
  if (!scope?.[1]) return null;
  const service = normalizeService(scope[1]);
  const target = headers['x-amz-target'];
  if (typeof target === 'string' && target.includes('.')) {
    return { service, action: target.slice(target.lastIndexOf('.') + 1), protocol: 'json' };
  }
  const contentType = String(headers['content-type'] ?? '');
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    const params = new URLSearchParams(body.toString('utf8'));
    const action = params.get('Action');
    const account = /^arn:[\w-]+:iam::(\d{12}):/.exec(params.get('RoleArn') ?? '')?.[1];
    if (action) return { service, action, protocol: 'query', ...(account ? { account } : {}) };
  }
  const path = url.split('?')[0] ?? '';
  return { service, action: restAction(service, method, path), protocol: 'rest' };
}

/** Step Functions signs as "states"; the contract's fault rules and counters say "sfn". */
function normalizeService(signingName: string): string {
  if (signingName === 'states') return 'sfn';
  if (signingName === 'email') return 'ses';
  return signingName;
}

function restAction(service: string, method: string, path: string): string {
  if (service === 'lambda' && /\/functions\/[^/]+\/invocations$/.test(path)) return 'Invoke';
  if (service === 'ses' && path === '/v2/email/outbound-emails') return 'SendEmail';
  const resource = path.split('/').filter((part) => part && !/^\d{4}-\d{2}-\d{2}$/.test(part) && part !== 'v2')[0] ?? 'root';
  return `${method} ${resource}`;
}
