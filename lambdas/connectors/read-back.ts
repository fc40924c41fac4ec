import { canonicalJson } from '../domain/canonical.js';
import type { JsonObject } from '../domain/plan-model.js';
import type { ConnectorContext, VerifyResult } from './types.js';

/** Verification by an independent read: converged when the observed state equals `after`. */
export async function verifyByReadBack<P extends JsonObject>(
  read: (ctx: ConnectorContext, params: P) => Promise<JsonObject>,
  ctx: ConnectorContext,
  params: P,
  after: JsonObject,
): Promise<VerifyResult> {
  const observed = await read(ctx, params);
  return { converged: canonicalJson(observed) === canonicalJson(after), observed };
}
