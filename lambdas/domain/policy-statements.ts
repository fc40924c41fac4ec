/**
 * What an IAM policy document grants, as far as baselines judge it: which Allow statements grant a
 * forbidden action, and the document without them. Pure, no AWS.
 */
import type { JsonObject, JsonValue } from './plan-model.js';

/** An IAM action pattern ("*", "iam:*", "s3:Get*") as a case-insensitive regular expression. */
function patternRegex(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 'i');
}

/**
 * An action pattern covers a forbidden one when it matches every action the forbidden one names:
 * "*" covers "iam:*", "iam:*" covers "iam:*", "iam:Get*" does not (it grants part of IAM only).
 * The forbidden pattern is matched as a literal string, its wildcards included.
 */
export function covers(pattern: string, forbidden: string): boolean {
  return patternRegex(pattern).test(forbidden);
}

const asList = (value: JsonValue | undefined): string[] => (typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

/** The statements of a document, whether Statement is one object or a list. */
export function statementsOf(document: JsonObject): JsonObject[] {
  const statement = document.Statement;
  const list = Array.isArray(statement) ? statement : statement !== undefined && statement !== null ? [statement] : [];
  return list.filter((s): s is JsonObject => s !== null && typeof s === 'object' && !Array.isArray(s));
}

/**
 * The forbidden actions an Allow statement grants: by Action, each forbidden pattern one of its
 * actions covers; by NotAction, each forbidden pattern none of the excluded actions covers (an
 * Allow with NotAction grants everything else). A Deny grants nothing.
 */
export function grantedForbidden(statement: JsonObject, forbid: readonly string[]): string[] {
  if (statement.Effect !== 'Allow') return [];
  if (statement.NotAction !== undefined) {
    const excluded = asList(statement.NotAction);
    return forbid.filter((f) => !excluded.some((e) => covers(e, f)));
  }
  const actions = asList(statement.Action);
  return forbid.filter((f) => actions.some((a) => covers(a, f)));
}

/** The document without its statements that grant a forbidden action; null when none would be left. */
export function withoutForbidden(document: JsonObject, forbid: readonly string[]): { document: JsonObject | null; removed: JsonObject[] } {
  const statements = statementsOf(document);
  const removed = statements.filter((s) => grantedForbidden(s, forbid).length > 0);
  if (removed.length === 0) return { document, removed };
  const kept = statements.filter((s) => !removed.includes(s));
  return { document: kept.length === 0 ? null : { ...document, Statement: kept }, removed };
}
