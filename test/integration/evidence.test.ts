import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { putEvent } from '../../cli/commands/event.js';
import { waitForChange, type ShowDocument } from '../../cli/lib/changes.js';
import type { StackContext } from '../../cli/lib/context.js';
import { evidenceQuery, type EvidenceReport } from '../../cli/lib/evidence-report.js';
import type { VerifyDocument } from '../../cli/lib/evidence-verify.js';
import { sealEvidence, verifyChain, type EvidenceDraft, type EvidenceEvent } from '../../lambdas/domain/evidence.js';
import { parseGovernanceEvent } from '../../lambdas/domain/events.js';
import { createDocumentClient } from '../../lambdas/stores/dynamo.js';
import type { EvidenceHandover } from '../../lambdas/domain/evidence-handover.js';
import { EvidenceOutbox } from '../../lambdas/stores/evidence-outbox.js';
import { EvidenceStore } from '../../lambdas/stores/evidence-store.js';
import { EvidenceWriter } from '../../lambdas/stores/evidence-writer.js';
import { startTestStack, type TestStack } from '../support/local-stack.js';
import { createGovernedUser, ownerEmail, terminationEvent, unique } from '../support/estate.js';
import { asFunction } from '../support/function-roles.js';

describe('evidence trail: exports, queries, concurrent appends, tamper detection', () => {
  let stack: TestStack;
  let ctx: StackContext;
  let direct: DynamoDBDocumentClient;
  let table: string;
  /** Three finished changes: one to export then edit, one to lose a middle event, one to lose its last. */
  let changes: Array<{ doc: ShowDocument; userName: string }>;

  beforeAll(async () => {
    stack = await startTestStack();
    ctx = await stack.context();
    direct = createDocumentClient(stack.direct.dynamodb);
    table = stack.outputs.tables.evidence ?? '';
    changes = await Promise.all(
      [0, 1, 2].map(async () => {
        const owner = ownerEmail();
        const { userName } = await createGovernedUser(stack.direct, { owner, keys: 1 });
        const parsed = parseGovernanceEvent(terminationEvent(owner));
        if (!parsed.ok) throw new Error(parsed.error);
        const { changeId } = await putEvent(ctx, parsed.event);
        const { doc } = await waitForChange(ctx, changeId, 90_000);
        if (doc?.status !== 'VERIFIED') throw new Error(`change ${changeId} ended ${doc?.status}`);
        return { doc, userName };
      }),
    );
  });
  afterAll(() => stack?.stop());

  it('exports one change as json, jsonl, csv and a self-contained html audit page', async () => {
    const { doc, userName } = changes[0] as { doc: ShowDocument; userName: string };
    const id = doc.changeId;
    const report = stack.json<EvidenceReport>(['evidence', id]);
    expect(report).toMatchObject({ changeId: id, status: 'VERIFIED', trigger: 'Employee Terminated', chain: { ok: true, complete: true, events: doc.evidence.length } });
    expect(report.events).toEqual(doc.evidence);
    expect(report.policyVersions).toEqual([doc.policyVersion]);
    expect(report.chain.head?.hash).toBe(doc.evidence.at(-1)?.hash);

    const jsonl = stack.cli(['evidence', id, '--format', 'jsonl']);
    expect(jsonl.code).toBe(0);
    const lines = jsonl.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as EvidenceEvent);
    expect(lines).toEqual(report.events);
    expect(Object.keys(lines[0] as object)).toEqual(['changeId', 'seq', 'type', 'at', 'actor', 'policyVersion', 'data', 'prevHash', 'hash']);
    expect(verifyChain(lines).ok).toBe(true);

    const csv = stack.cli(['evidence', id, '--format', 'csv']);
    expect(csv.code).toBe(0);
    const rows = csv.stdout.trimEnd().split('\r\n');
    expect(rows[0]).toBe('changeId,seq,type,at,actor,nhi,actionId,reasonCode,policyVersion,data,prevHash,hash');
    expect(rows.length).toBe(report.events.length + 1);
    expect(rows[1]).toMatch(new RegExp(`^${id},1,TRIGGERED,`));

    const html = stack.cli(['evidence', id, '--format', 'html']);
    expect(html.code).toBe(0);
    expect(html.stdout).toMatch(/^<!DOCTYPE html>/);
    expect(html.stdout).toContain(`Chain verified: ${report.events.length} event(s)`);
    expect(html.stdout).toContain(userName);
    for (const heading of ['Plan', 'Decision and approvals', 'Observed states', 'Outcome', 'Timeline']) expect(html.stdout).toContain(`<h2>${heading}</h2>`);
    expect(html.stdout).toContain('&quot;status&quot;: &quot;Inactive&quot;');
    expect(html.stdout).not.toMatch(/<script|<link|src=/i);

    expect(stack.cli(['evidence', id, '--format', 'csv', '--json']).code).toBe(2);
    expect(stack.cli(['evidence', id, '--format', 'pdf']).code).toBe(2);
    expect(stack.cli(['evidence', 'chg-000000000000000000000000']).code).toBe(2);
  });

  it('queries by NHI (GSI byNhi) and by time window (GSI byDay)', async () => {
    const { doc, userName } = changes[1] as { doc: ShowDocument; userName: string };
    const byNhi = stack.json<{ changes: string[]; events: EvidenceEvent[] }>(['evidence', '--nhi', userName]);
    expect(byNhi.changes).toEqual([doc.changeId]);
    expect(byNhi.events.map((e) => e.seq).sort((a, b) => a - b)).toEqual(doc.evidence.filter((e) => e.nhi === userName).map((e) => e.seq));
    expect(byNhi.events.length).toBeGreaterThan(2);

    const first = doc.evidence[0]?.at ?? '';
    const last = doc.evidence.at(-1)?.at ?? '';
    const window = await evidenceQuery(ctx, { window: { from: first, to: last } });
    const mine = window.events.filter((e) => e.changeId === doc.changeId);
    expect(mine.map((e) => e.seq).sort((a, b) => a - b)).toEqual(doc.evidence.map((e) => e.seq));
    const none = await evidenceQuery(ctx, { window: { from: '2001-01-01T00:00:00.000Z', to: '2001-01-02T00:00:00.000Z' } });
    expect(none.events).toEqual([]);
  });

  it('20 parallel appenders handing 5 drafts each to the writer (queue, writer Lambda) lose nothing, wait for no one, and the chain verifies', async () => {
    // They hand drafts over as the functions that record these types: the writer takes them from no one else.
    const store = new EvidenceStore(direct, table);
    const outbox = new EvidenceOutbox((await asFunction(stack, 'write-action')).sqs, stack.outputs.queues.evidence ?? null, store);
    const completer = new EvidenceOutbox((await asFunction(stack, 'complete')).sqs, stack.outputs.queues.evidence ?? null, store);
    const changeId = await syntheticChange('parallel');
    const writers = 20;
    const perWriter = 5;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let i = 0; i < perWriter; i += 1) await outbox.append({ changeId, type: 'WRITTEN', actor: `writer-${w}`, policyVersion: 'test', actionId: `a${w}`, nhi: `svc-${w}`, data: { writer: w, index: i } });
      }),
    );
    const handedOverMs = Date.now() - started;
    const last = await completer.record({ changeId, type: 'COMPLETED', actor: 'test', policyVersion: 'test', data: {} }, { once: 'COMPLETED' });
    const recordedMs = Date.now() - started;
    expect(last.seq).toBe(writers * perWriter + 1);
    // A retried step records its once-only event again: it waits for the first, adds none.
    const again = await completer.record({ changeId, type: 'COMPLETED', actor: 'test', policyVersion: 'test', data: {} }, { once: 'COMPLETED' });
    expect(again).toEqual(last);
    const chain = await ctx.evidence.listByChange(changeId);
    expect(chain.map((e) => e.seq)).toEqual(chain.map((_, i) => i + 1));
    expect(verifyChain(chain)).toEqual({ ok: true, events: writers * perWriter + 1 });
    // Each appender's drafts are on the chain in the order it handed them over.
    for (let w = 0; w < writers; w += 1) {
      expect(chain.filter((e) => e.actor === `writer-${w}`).map((e) => e.data.index)).toEqual([0, 1, 2, 3, 4]);
    }
    const check = stack.json<VerifyDocument>(['evidence', 'verify', changeId]);
    expect(check).toMatchObject({ ok: true, changes: 1, events: writers * perWriter + 1 });
    console.info(`20 appenders x ${perWriter}: handed over in ${handedOverMs} ms, all ${writers * perWriter + 1} on the chain after ${recordedMs} ms`);
  });

  it('`evidence verify` detects an edited field, a deleted event (the last one too), a reordered and an inserted event, naming the seq', async () => {
    const [edited, middle, tail] = changes.map((c) => c.doc) as [ShowDocument, ShowDocument, ShowDocument];
    expect(stack.cli(['evidence', 'verify', edited.changeId]).code).toBe(0);

    // Edited: who did it.
    await direct.send(new UpdateCommand({ TableName: table, Key: { changeId: edited.changeId, seq: 3 }, UpdateExpression: 'SET actor = :a', ExpressionAttributeValues: { ':a': 'someone-else' } }));
    // Deleted: an event in the middle, and the last one (COMPLETED) of another change.
    await direct.send(new DeleteCommand({ TableName: table, Key: { changeId: middle.changeId, seq: 2 } }));
    const tailLast = tail.evidence.at(-1) as EvidenceEvent;
    expect(tailLast.type).toBe('COMPLETED');
    await direct.send(new DeleteCommand({ TableName: table, Key: { changeId: tail.changeId, seq: tailLast.seq } }));
    // Reordered and inserted: on chains written straight through the store.
    const reordered = await syntheticChain(5);
    const [two, three] = await Promise.all([2, 3].map((seq) => direct.send(new GetCommand({ TableName: table, Key: { changeId: reordered, seq } }))));
    await direct.send(new PutCommand({ TableName: table, Item: { ...two?.Item, seq: 3 } }));
    await direct.send(new PutCommand({ TableName: table, Item: { ...three?.Item, seq: 2 } }));
    const inserted = await syntheticChain(5);
    await insertForged(inserted, 3);

    const one = stack.cli(['evidence', 'verify', edited.changeId, '--json']);
    expect(one.code).toBe(1);
    expect(JSON.parse(one.stdout)).toMatchObject({ ok: false, broken: 1, results: [{ changeId: edited.changeId, brokenAt: 3, reason: expect.stringMatching(/hash does not match/) }] });
    expect(one.stderr).toContain(`${edited.changeId} at seq 3`);

    const all = stack.cli(['evidence', 'verify', '--json']);
    expect(all.code).toBe(1);
    const doc = JSON.parse(all.stdout) as VerifyDocument;
    const broken = Object.fromEntries(doc.results.filter((r) => !r.ok).map((r) => [r.changeId, [r.brokenAt, r.reason]]));
    expect(broken).toEqual({
      [edited.changeId]: [3, expect.stringMatching(/edited/)],
      [middle.changeId]: [2, expect.stringMatching(/event 2 is missing/)],
      [tail.changeId]: [tailLast.seq, expect.stringMatching(/VERIFIED but its chain stops at seq \d+ .* without COMPLETED/)],
      [reordered]: [2, expect.stringMatching(/hash does not match|prevHash/)],
      [inserted]: [4, expect.stringMatching(/prevHash|seq/)],
    });
    expect(doc.broken).toBe(5);
    expect(doc.changes).toBeGreaterThanOrEqual(6);
    expect(all.stderr).toMatch(/evidence chain broken: .* at seq \d+/);
  });

  it('the writer skips drafts of a redelivered batch already on the chain, and goes on at the real head when another writer moved it', async () => {
    const changeId = await syntheticChange('redelivered');
    const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map((id) => handover(changeId, `${changeId}-${id}`)) as [EvidenceHandover, EvidenceHandover, EvidenceHandover, EvidenceHandover, EvidenceHandover];
    const one = writer();
    expect((await one.write(changeId, [a, b, c])).map((event) => event.seq)).toEqual([1, 2, 3]);
    // The same batch delivered again after b and c were written (the writer died before the queue heard back).
    expect((await writer().write(changeId, [b, c, d])).map((event) => event.seq)).toEqual([4]);
    // `one` still holds seq 3 as the head: its put at 4 collides, it reads the head and writes at 5.
    expect((await one.write(changeId, [e])).map((event) => event.seq)).toEqual([5]);
    const chain = await ctx.evidence.listByChange(changeId);
    expect(chain.map((event) => event.data.id)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(verifyChain(chain)).toEqual({ ok: true, events: 5 });
  });

  it('written() finds a draft anywhere back to its bounds across growing pages, reads only after afterSeq, stops at notBefore; headSeq names the head', async () => {
    const changeId = await syntheticChain(230);
    const store = new EvidenceStore(direct, table);
    const longAgo = '2000-01-01T00:00:00.000Z';
    expect(await store.headSeq(changeId)).toBe(230);
    expect(await store.headSeq(`${changeId}-none`)).toBe(0);
    // At the head, deep in the chain (past several pages), and the first event.
    for (const [i, seq] of [[229, 230], [40, 41], [0, 1]] as const) {
      const found = await store.written(changeId, `${changeId}-${i}`, { afterSeq: 0, notBefore: longAgo });
      expect(found.headSeq).toBe(230);
      expect(found.event).toMatchObject({ changeId, seq, data: { i } });
    }
    // Already searched (afterSeq) or sealed before notBefore: not looked at.
    expect(await store.written(changeId, `${changeId}-40`, { afterSeq: 41, notBefore: longAgo })).toEqual({ event: undefined, headSeq: 230 });
    expect(await store.written(changeId, `${changeId}-0`, { afterSeq: 0, notBefore: '2999-01-01T00:00:00.000Z' })).toEqual({ event: undefined, headSeq: 230 });
    expect(await store.written(changeId, 'never-handed-over', { afterSeq: 0, notBefore: longAgo })).toEqual({ event: undefined, headSeq: 230 });
  });

  function writer(): EvidenceWriter {
    return new EvidenceWriter(direct, table);
  }

  function handover(changeId: string, draftId: string): EvidenceHandover {
    return { draftId, draft: { changeId, type: 'WRITTEN', actor: 'test', policyVersion: 'test', data: { id: draftId.slice(-1) } } };
  }

  /** A change record with no workflow behind it (never ends), for chains written straight through the store. */
  async function syntheticChange(label: string): Promise<string> {
    const changeId = `chg-${label}-${unique('s')}`;
    await ctx.changes.create({ changeId, kind: 'change', status: 'PLANNED', trigger: 'test', eventId: changeId, createdAt: new Date().toISOString(), reasonCodes: [] });
    return changeId;
  }

  /** A chain of n events written as the writer writes them. */
  async function syntheticChain(n: number): Promise<string> {
    const changeId = await syntheticChange('synthetic');
    await writer().write(changeId, Array.from({ length: n }, (_, i) => ({ draftId: `${changeId}-${i}`, draft: { changeId, type: 'WRITTEN', actor: 'test', policyVersion: 'test', data: { i } } })));
    return changeId;
  }

  /** What an attacker must do to insert at `seq`: move every later event up by one, then seal a forged one onto seq - 1. */
  async function insertForged(changeId: string, seq: number): Promise<void> {
    const items = (await direct.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'changeId = :c', ExpressionAttributeValues: { ':c': changeId }, ConsistentRead: true }))).Items ?? [];
    for (const item of [...items].reverse()) if (Number(item.seq) >= seq) await direct.send(new PutCommand({ TableName: table, Item: { ...item, seq: Number(item.seq) + 1 } }));
    const prev = items.find((item) => item.seq === seq - 1) as EvidenceEvent & { day: string };
    const draft: EvidenceDraft = { changeId, type: 'APPROVED', actor: 'approver@example.com', policyVersion: 'test', data: { forged: true } };
    await direct.send(new PutCommand({ TableName: table, Item: { ...sealEvidence(draft, seq, prev.at, prev.hash), day: prev.day } }));
  }
});

