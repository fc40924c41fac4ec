import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../../infra/resources.js';
import { PROJECT_ROOT } from '../../../local/build.js';
import { EVIDENCE_TYPES, type EvidenceType } from '../../../lambdas/domain/evidence.js';
import { EVIDENCE_SENDERS, mayHandOver, senderRoleId } from '../../../lambdas/domain/evidence-senders.js';

const appenders = FUNCTIONS.filter((fn) => fn.uses?.includes('evidenceAppend'));

/** The project's own modules a handler's bundle holds: its entry and everything it imports, transitively. */
function modulesOf(entry: string): string[] {
  const seen = new Set<string>();
  const pending = [path.join(PROJECT_ROOT, entry)];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/\bfrom\s+'(\.{1,2}\/[^']+)'/g)) {
      const imported = path.resolve(path.dirname(file), (specifier ?? '').replace(/\.js$/, '.ts'));
      if (existsSync(imported)) pending.push(imported);
    }
  }
  return [...seen];
}

/**
 * The evidence types a handler's code can put in a draft: every type named in the value of a
 * `type:` property (a literal, a conditional of literals, a union type of them) in its modules.
 */
function typesRecordedBy(entry: string): EvidenceType[] {
  const found = new Set<EvidenceType>();
  for (const file of modulesOf(entry)) {
    for (const [, value] of readFileSync(file, 'utf8').matchAll(/\btype:\s*([^,;}\n]+)/g)) {
      for (const type of EVIDENCE_TYPES) if ((value ?? '').includes(`'${type}'`)) found.add(type);
    }
  }
  return [...found].sort();
}

describe('who may hand over which evidence', () => {
  it('names every function of FUNCTIONS that may hand drafts over (evidenceAppend), and no other', () => {
    expect(Object.keys(EVIDENCE_SENDERS).sort()).toEqual(appenders.map((fn) => fn.name).sort());
  });

  it.each(appenders.map((fn) => [fn.name, fn.entry] as const))('%s: exactly the types its code records', (name, entry) => {
    const allowed = [...(Object.entries(EVIDENCE_SENDERS).find(([sender]) => sender === name)?.[1] ?? [])].sort();
    expect(typesRecordedBy(entry)).toEqual(allowed);
  });

  it('finds what a handler records through shared modules and conditionals (the scan this table is checked by)', () => {
    expect(typesRecordedBy('lambdas/handlers/plan.ts')).toEqual(['DECIDED', 'EXEMPTED', 'PLANNED', 'TRIGGERED']);
    expect(typesRecordedBy('lambdas/handlers/approval-api.ts')).toEqual(['APPROVAL_REFUSED', 'APPROVED', 'ATTESTED', 'REJECTED']);
    expect(typesRecordedBy('lambdas/handlers/checkpoint.ts')).toEqual([]);
  });

  it('lets no function that faces people hand over the workflow outcome', () => {
    for (const type of ['VERIFIED', 'COMPLETED', 'WRITTEN', 'ROLLED_BACK', 'FINALIZED'] as const) expect(mayHandOver('approval-api', type)).toBe(false);
    expect(mayHandOver('verify-action', 'VERIFIED')).toBe(true);
    expect(mayHandOver('complete', 'COMPLETED')).toBe(true);
  });

  it('reads the role id from an SQS SenderId', () => {
    expect(senderRoleId('AROAEXAMPLE123:nhigov-plan')).toBe('AROAEXAMPLE123');
    expect(senderRoleId('AIDAEXAMPLEUSER')).toBe('AIDAEXAMPLEUSER');
    expect(senderRoleId('123456789012')).toBe('123456789012');
  });
});
