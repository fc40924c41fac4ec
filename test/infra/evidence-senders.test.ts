/**
 * The evidence writer knows who may hand drafts over: its environment maps every function with
 * the evidenceAppend capability to its role's unique id (the role id SQS names in each message's
 * SenderId), and names no other.
 */
import { describe, expect, it } from 'vitest';
import { EVIDENCE_SENDERS_ENV } from '../../lambdas/domain/evidence-senders.js';
import { FUNCTIONS } from '../../infra/resources.js';
import { buildStack, functionLogicalId, type CfnTemplate } from './support/stack.js';

const { json } = buildStack();

/** The writer's sender map as CloudFormation builds it: {function name: the logical id of the role whose RoleId it is}. */
function senderRolesOfWriter(template: CfnTemplate): Record<string, string> {
  const writer = template.Resources[functionLogicalId(template, 'nhigov-evidence-writer')];
  const variables = (writer?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
  const value: unknown = variables[EVIDENCE_SENDERS_ENV];
  // {"Fn::Join": ["", ['{"plan":"', {"Fn::GetAtt": ["…Role…", "RoleId"]}, '","check-stale":"', …, '"}']]}
  const parts = (value as { 'Fn::Join'?: [string, unknown[]] } | undefined)?.['Fn::Join']?.[1] ?? [];
  const tokens: unknown[] = [];
  const text = parts.map((part) => (typeof part === 'string' ? part : `TOKEN${tokens.push(part) - 1}`)).join('');
  const roles: Record<string, string> = {};
  for (const [name, placeholder] of Object.entries(JSON.parse(text) as Record<string, string>)) {
    const token = tokens[Number(placeholder.replace(/^TOKEN/, ''))] as { 'Fn::GetAtt': [string, string] };
    expect(token['Fn::GetAtt'][1]).toBe('RoleId');
    roles[name] = token['Fn::GetAtt'][0];
  }
  return roles;
}

/** A cycle of resources through Ref, Fn::GetAtt, Fn::Sub and DependsOn, or [] when there is none. */
function dependencyCycle(template: CfnTemplate): string[] {
  const ids = Object.keys(template.Resources);
  const edges = new Map<string, Set<string>>();
  for (const [id, resource] of Object.entries(template.Resources)) {
    const text = JSON.stringify({ ...resource, Metadata: undefined });
    const targets = new Set<string>();
    for (const [, target] of text.matchAll(/"Ref":"([^"]+)"/g)) targets.add(target ?? '');
    for (const [, target] of text.matchAll(/"Fn::GetAtt":\["([^"]+)"/g)) targets.add(target ?? '');
    for (const [, target] of text.matchAll(/\$\{([A-Za-z0-9]+)[.}]/g)) targets.add(target ?? '');
    const dependsOn: unknown = (resource as { DependsOn?: unknown }).DependsOn;
    for (const target of Array.isArray(dependsOn) ? dependsOn : [dependsOn]) if (typeof target === 'string') targets.add(target);
    edges.set(id, new Set([...targets].filter((t) => t !== id && template.Resources[t] !== undefined)));
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (id: string): string[] => {
    if (state.get(id) === 'done') return [];
    if (state.get(id) === 'visiting') return [...path.slice(path.indexOf(id)), id];
    state.set(id, 'visiting');
    path.push(id);
    for (const next of edges.get(id) ?? []) {
      const cycle = visit(next);
      if (cycle.length > 0) return cycle;
    }
    path.pop();
    state.set(id, 'done');
    return [];
  };
  for (const id of ids) {
    const cycle = visit(id);
    if (cycle.length > 0) return cycle;
  }
  return [];
}

describe('the evidence writer knows each sender by its role', () => {
  it("carries the RoleId of every evidenceAppend function's own role, and of no other function", () => {
    const roles = senderRolesOfWriter(json);
    const appenders = FUNCTIONS.filter((fn) => fn.uses?.includes('evidenceAppend'));
    expect(Object.keys(roles).sort()).toEqual(appenders.map((fn) => fn.name).sort());
    for (const fn of appenders) {
      const role = json.Resources[functionLogicalId(json, `nhigov-${fn.name}`)]?.Properties?.Role as { 'Fn::GetAtt': [string, string] };
      expect(roles[fn.name], fn.name).toBe(role['Fn::GetAtt'][0]);
    }
    expect(new Set(Object.values(roles)).size).toBe(appenders.length);
  });

  it('closes no dependency cycle: CloudFormation can order every resource of the stack', () => {
    expect(dependencyCycle(json)).toEqual([]);
    const cyclic: CfnTemplate = { Resources: { A: { Type: 'T', Properties: { x: { 'Fn::GetAtt': ['B', 'RoleId'] } } }, B: { Type: 'T', Properties: { y: { Ref: 'A' } } } } };
    expect(dependencyCycle(cyclic)).toEqual(['A', 'B', 'A']);
  });

  it('is set on the writer only', () => {
    const others = Object.entries(json.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function' && JSON.stringify(r.Properties?.Environment ?? {}).includes(EVIDENCE_SENDERS_ENV));
    expect(others.map(([id]) => id)).toEqual([functionLogicalId(json, 'nhigov-evidence-writer')]);
  });
});
