/**
 * Re-signs a hosted function's AWS call with its own role's session (function-roles.ts). The
 * handlers share one process and so one environment, whose keys are the emulator's root key: a
 * per-invocation environment cannot work with invocations of different functions running at
 * once. The gateway knows which invocation made each call (LambdaHost.invocationAt), so it signs
 * the call again, as that function, before it forwards it: the emulator sees what AWS would.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { RoleSession } from './function-roles.js';

type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytesOf(data: SourceData): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/** SigV4's checksum, from node:crypto (SignatureV4 takes any SHA-256 with this shape). */
class Sha256 {
  private readonly hash: Hash | Hmac;

  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret));
  }

  update(data: SourceData): void {
    this.hash.update(bytesOf(data));
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.hash.digest());
  }
}

/** The access key a SigV4 request was signed with, and its scope's region and signing name. */
export function signingOf(headers: IncomingHttpHeaders): { readonly accessKeyId: string; readonly region: string; readonly service: string } | null {
  const match = /Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(String(headers.authorization ?? ''));
  if (!match?.[1] || !match[2] || !match[3]) return null;
  return { accessKeyId: match[1], region: match[2], service: match[3] };
}

/** Headers SigV4 adds, dropped before signing again. */
const SIGNATURE_HEADERS = new Set(['authorization', 'x-amz-date', 'x-amz-security-token']);

/**
 * The request's headers signed with `session` instead, same scope (region, signing name); the
 * payload hash a client sent (S3's `x-amz-content-sha256`, streaming included) is kept as it is.
 */
export async function signedAs(
  session: Pick<RoleSession, 'accessKeyId' | 'secretAccessKey'> & { readonly sessionToken?: string },
  request: { readonly method: string; readonly url: string; readonly headers: IncomingHttpHeaders; readonly body: Buffer },
  signingDate: Date = new Date(),
): Promise<IncomingHttpHeaders> {
  const scope = signingOf(request.headers);
  if (!scope) return request.headers;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || SIGNATURE_HEADERS.has(name)) continue;
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const url = new URL(request.url, `http://${headers.host ?? 'localhost'}`);
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(url.searchParams.keys())) {
    const values = url.searchParams.getAll(key);
    query[key] = values.length === 1 ? (values[0] ?? '') : values;
  }
  const signer = new SignatureV4({
    credentials: { accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey, ...(session.sessionToken === undefined ? {} : { sessionToken: session.sessionToken }) },
    region: scope.region,
    service: scope.service,
    sha256: Sha256,
    // No payload hash header of its own: the client's is kept (S3's), none is added where the client sent none.
    applyChecksum: false,
    // S3 signs the path as sent; every other service escapes it once more.
    uriEscapePath: scope.service !== 's3',
  });
  const signed = await signer.sign({ method: request.method, protocol: 'http:', hostname: url.hostname, ...(url.port ? { port: Number(url.port) } : {}), path: url.pathname, query, headers, body: request.body }, { signingDate });
  return { ...signed.headers };
}
