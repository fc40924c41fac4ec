import { z } from 'zod';
import type { JsonObject } from '../../domain/plan-model.js';
import { classifyAwsError, connectorStep } from '../errors.js';
import type { ConnectorContext } from '../types.js';
import { getInlinePolicy, inlineDocumentInSnapshot, principalLabel, principalShape } from './principal.js';
import type { Snapshot } from '../../domain/snapshot.js';

const policyName = z.string().min(1).max(128).regex(/^[\w+=,.@-]+$/, 'an IAM policy name');

/** A policy document: a JSON object with a Statement. */
export const policyDocument = z
  .record(z.string(), z.json())
  .refine((doc) => doc.Statement !== undefined && doc.Statement !== null, 'a policy document with a Statement');

export const inlinePolicyRef = z.strictObject({ ...principalShape, policyName });
export type InlinePolicyRef = z.infer<typeof inlinePolicyRef>;

/** The document travels in the params, so putting it back needs nothing but the plan. */
export const inlinePolicyWithDocument = z.strictObject({ ...principalShape, policyName, document: policyDocument });
export type InlinePolicyWithDocument = z.infer<typeof inlinePolicyWithDocument>;

/** State: { present, document } — the document itself, so an inverse can put exactly it back. */
export function inlinePolicyState(document: JsonObject | null): JsonObject {
  return { present: document !== null, document };
}

export async function readInlinePolicy(ctx: ConnectorContext, params: InlinePolicyRef): Promise<JsonObject> {
  return connectorStep(`reading inline policy ${params.policyName} of ${principalLabel(params)}`, classifyAwsError, async () =>
    inlinePolicyState(await getInlinePolicy(ctx, params, params.policyName)),
  );
}

export function inlinePolicyFromSnapshot(params: JsonObject, snapshot: Snapshot): JsonObject | null {
  if (typeof params.policyName !== 'string') return null;
  const document = inlineDocumentInSnapshot(snapshot, params, params.policyName);
  return document === undefined ? null : inlinePolicyState(document);
}

export function withoutDocument(params: JsonObject): JsonObject {
  const { document: _document, ...ref } = params;
  return ref;
}

export const inlinePolicyLabel = (p: InlinePolicyRef): string => `${p.policyName} on ${principalLabel(p)}`;
