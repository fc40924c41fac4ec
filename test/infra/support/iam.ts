/** Reading IAM out of a synthesized template: which statements reach which role. */
import type { CfnTemplate } from './stack.js';

export interface Statement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | string[];
  readonly NotAction?: string | string[];
  readonly Resource?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
  readonly Principal?: unknown;
}

interface PolicyDocument {
  readonly Statement: Statement[];
}

export function asArray<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function refsOf(value: unknown): string[] {
  return asArray(value as unknown[]).flatMap((v) => (typeof v === 'object' && v !== null && 'Ref' in v ? [String((v as { Ref: unknown }).Ref)] : []));
}

/** Every statement each role gets, from inline policies, AWS::IAM::Policy and managed policies. */
export function statementsByRole(json: CfnTemplate): Map<string, Statement[]> {
  const out = new Map<string, Statement[]>();
  const add = (role: string, statements: Statement[]): void => {
    out.set(role, [...(out.get(role) ?? []), ...statements]);
  };
  const managed = new Map<string, Statement[]>();
  for (const [id, r] of Object.entries(json.Resources)) {
    if (r.Type === 'AWS::IAM::ManagedPolicy') managed.set(id, (r.Properties?.['PolicyDocument'] as PolicyDocument).Statement);
  }
  for (const [id, r] of Object.entries(json.Resources)) {
    if (r.Type === 'AWS::IAM::Role') {
      add(id, []);
      for (const inline of asArray(r.Properties?.['Policies'] as Array<{ PolicyDocument: PolicyDocument }>)) add(id, inline.PolicyDocument.Statement);
      for (const ref of refsOf(r.Properties?.['ManagedPolicyArns'])) add(id, managed.get(ref) ?? []);
    }
    if (r.Type === 'AWS::IAM::Policy') {
      for (const role of refsOf(r.Properties?.['Roles'])) add(role, (r.Properties?.['PolicyDocument'] as PolicyDocument).Statement);
    }
    if (r.Type === 'AWS::IAM::ManagedPolicy') {
      for (const role of refsOf(r.Properties?.['Roles'])) add(role, managed.get(id) ?? []);
    }
  }
  return out;
}

/** IAM action matching: `dynamodb:*`, `dynamodb:Delete*`, `*` all cover `dynamodb:DeleteItem`. */
export function actionCovers(pattern: string, action: string): boolean {
  const regex = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
  return regex.test(action);
}

/** Whether a statement's Resource can name the resource with this logical id (or everything). */
export function resourceMayInclude(resource: unknown, logicalId: string): boolean {
  return asArray(resource as unknown[]).some((r) => r === '*' || JSON.stringify(r).includes(`"${logicalId}"`));
}
