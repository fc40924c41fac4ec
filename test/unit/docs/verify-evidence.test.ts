import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalJson as projectCanonicalJson } from '../../../lambdas/domain/canonical.js';
import { EVIDENCE_TYPES, POST_COMPLETION_TYPES, sealEvidence, verifyChain, type EvidenceDraft, type EvidenceEvent } from '../../../lambdas/domain/evidence.js';
import { toJsonl } from '../../../cli/lib/evidence-format.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const SCRIPT = path.join(ROOT, 'scripts/verify-evidence.mjs');
// The standalone script, imported (by URL: it is plain JavaScript) only to compare its canonical
// JSON with the project's; everything else runs it as a user would.
const script = (await import(pathToFileURL(SCRIPT).href)) as { canonicalJson(value: unknown): string; POST_COMPLETION_TYPES: readonly string[] };
const { canonicalJson: scriptCanonicalJson, POST_COMPLETION_TYPES: SCRIPT_POST_COMPLETION_TYPES } = script;
const run = promisify(execFile);
const dir = mkdtempSync(path.join(tmpdir(), 'nhigov-verify-evidence-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const POLICY = 'a'.repeat(64);

/** A change's chain made by the project's own code, with data that exercises canonicalization. */
function buildChain(changeId = 'chg-0123456789abcdef01234567'): EvidenceEvent[] {
  const drafts: EvidenceDraft[] = [
    { changeId, type: 'TRIGGERED', actor: 'hr.system', policyVersion: POLICY, data: { eventId: 'hr-4711', detailType: 'Employee Terminated', detail: { employeeId: 'E-4711', email: 'dave@example.com' } } },
    { changeId, type: 'PLANNED', actor: 'nhigov:automation', policyVersion: POLICY, data: { planHash: 'b'.repeat(64), actions: [{ actionId: 'a1', kind: 'iam.deactivateAccessKey' }], ratio: 0.1, big: 1e21, small: 1e-7, neg: -0, int: 42 } },
    { changeId, type: 'WRITE_ATTEMPTED', actor: 'nhigov:automation', policyVersion: POLICY, nhi: 'svc-build', actionId: 'a1', data: { attempt: 1, 'é': 'unicode ✓ 😀', a: '"quoted" \\ back\nslash\ttab\u0001', Z: null, nested: { b: [3, { y: true, x: false }], a: [] } } },
    { changeId, type: 'WRITTEN', actor: 'nhigov:automation', policyVersion: POLICY, nhi: 'svc-build', actionId: 'a1', data: { observed: { status: 'Inactive' } } },
    { changeId, type: 'VERIFIED', actor: 'nhigov:automation', policyVersion: POLICY, nhi: 'svc-build', actionId: 'a1', data: { observed: { status: 'Inactive' }, expected: { status: 'Inactive' }, polls: 2 } },
    { changeId, type: 'COMPLETED', actor: 'nhigov:automation', policyVersion: POLICY, reasonCode: 'KEY_UNUSED', data: { status: 'VERIFIED', reasonCodes: [] } },
  ];
  const events: EvidenceEvent[] = [];
  drafts.forEach((draft, index) => {
    events.push(sealEvidence(draft, index + 1, new Date(Date.UTC(2026, 2, 1, 12, 0, index)).toISOString(), events.at(-1)?.hash ?? '0'.repeat(64)));
  });
  expect(verifyChain(events).ok).toBe(true);
  return events;
}

async function verify(lines: string[] | string, args: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  const file = path.join(dir, `trail-${Math.random().toString(36).slice(2)}.jsonl`);
  writeFileSync(file, typeof lines === 'string' ? lines : `${lines.join('\n')}\n`);
  try {
    const { stdout, stderr } = await run(process.execPath, [SCRIPT, file, ...args], { cwd: dir });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const jsonlLines = (events: readonly EvidenceEvent[]) => toJsonl(events).trimEnd().split('\n');

describe('scripts/verify-evidence.mjs', () => {
  it('needs nothing of ours: it imports only node:crypto, node:fs and node:url', () => {
    const source = readFileSync(SCRIPT, 'utf8');
    const imports = [...source.matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]);
    expect(imports.sort()).toEqual(['node:crypto', 'node:fs', 'node:url']);
    expect(source).not.toMatch(/require\(|import\(/);
  });

  it('accepts a chain exported by `nhigov evidence --format jsonl` and prints its head hash', async () => {
    const events = buildChain();
    const result = await verify(jsonlLines(events));
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`OK ${events[0]!.changeId} ${events.length} event(s) head ${events.length}:${events.at(-1)!.hash}\n`);
    expect((await verify(jsonlLines(events), ['--require-complete', '--expect-head', `3:${events[2]!.hash}`])).code).toBe(0);
  });

  it('reads stdin', async () => {
    const events = buildChain();
    const child = run(process.execPath, [SCRIPT, '-']);
    child.child.stdin!.end(toJsonl(events));
    const { stdout } = await child;
    expect(stdout).toContain(`head ${events.length}:${events.at(-1)!.hash}`);
  });

  it('rejects an edited event, naming its seq', async () => {
    const lines = jsonlLines(buildChain());
    const edited = JSON.parse(lines[2]!) as Record<string, unknown>;
    (edited.data as Record<string, unknown>).attempt = 2;
    lines[2] = JSON.stringify(edited);
    const result = await verify(lines);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^BROKEN chg-\S+ at seq 3: hash does not match/);
  });

  it('rejects an edited field the hash covers at the top level (actor)', async () => {
    const lines = jsonlLines(buildChain());
    lines[3] = lines[3]!.replace('"actor":"nhigov:automation"', '"actor":"mallory@example.com"');
    const result = await verify(lines);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('at seq 4');
  });

  it('rejects a deleted event', async () => {
    const lines = jsonlLines(buildChain());
    lines.splice(2, 1);
    const result = await verify(lines);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/at seq 3: event 3 is missing/);
  });

  it('rejects reordered events', async () => {
    const lines = jsonlLines(buildChain());
    [lines[1], lines[2]] = [lines[2]!, lines[1]!];
    const result = await verify(lines);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('at seq 2');
  });

  it('rejects a chain cut off its end when told the change has ended, and a head that is no longer there', async () => {
    const events = buildChain();
    const lines = jsonlLines(events);
    expect((await verify(lines.slice(0, -1), ['--require-complete'])).code).toBe(1);
    const cut = await verify(lines.slice(0, 2), ['--expect-head', `5:${events[4]!.hash}`]);
    expect(cut.code).toBe(1);
    expect(cut.stdout).toContain('at seq 5');
  });

  it('rejects a line that is not JSON, and exits 2 on bad usage', async () => {
    const lines = jsonlLines(buildChain());
    lines[1] = '{not json';
    expect((await verify(lines)).stdout).toContain('at seq 2: line 2 is not JSON');
    expect((await verify(lines, ['--nope'])).code).toBe(2);
  });

  it('canonicalizes like the project (RFC 8785) for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        // fast-check's jsonValue may hold -0, which JSON cannot carry apart from 0: both give "0".
        expect(scriptCanonicalJson(value)).toBe(projectCanonicalJson(value));
      }),
      { numRuns: 300 },
    );
  });

  it('knows the same post-completion event types as the project', () => {
    expect([...SCRIPT_POST_COMPLETION_TYPES].sort()).toEqual([...POST_COMPLETION_TYPES].sort());
  });
});

describe('docs/evidence.md', () => {
  const doc = readFileSync(path.join(ROOT, 'docs/evidence.md'), 'utf8');
  it('documents every evidence event type', () => {
    for (const type of EVIDENCE_TYPES) expect(doc, type).toContain(`\`${type}\``);
  });
});
