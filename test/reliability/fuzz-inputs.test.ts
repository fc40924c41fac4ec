import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { stringify as toYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TYPES, governanceEventSchema, parseGovernanceEvent } from '../../lambdas/domain/events.js';
import { parseIncomingEvent } from '../../lambdas/domain/signals/index.js';
import { parsePolicy } from '../../lambdas/domain/policy.js';
import { signPolicy, verifySignedPolicy } from '../../lambdas/domain/policy-signature.js';
import { isAppError } from '../../lambdas/domain/reasons.js';
import { startTestStack, type TestStack } from '../support/local-stack.js';
import { createGovernedUser, eventFile, keyStatuses, ownerEmail, terminationEvent } from '../support/estate.js';
import { APPROVER, approvalRecord, hasSessionDeny, mintLink, SECOPS, show } from '../support/approvals.js';
import { brokenSignalArb, DEFAULT_POLICY_TEXT, garbagePolicyTextArb, invalidEventArb, invalidPolicyObjectArb, routableInvalidEventArb, validEventArb, validSignalArb } from './support/fuzz-arbitraries.js';
import { fuzzSeed, logSeed } from './support/seeds.js';
import { cliAsync, mapLimit } from './support/cli-async.js';
import { setTimeout as sleep } from 'node:timers/promises';

const EVENT_SEED = fuzzSeed(20261122);
const POLICY_SEED = fuzzSeed(8_0008);
const FORM_SEED = fuzzSeed(424242);

/** One line, printable: what a CLI reason or a log field must be. */
const ONE_LINE = /^[^\n\r\u0000-\u0008\u000b\u000c\u000e-\u001f]*$/;

function policyError(run: () => unknown): { code: string; message: string } | 'accepted' {
  try {
    run();
    return 'accepted';
  } catch (error) {
    if (!isAppError(error)) throw new Error(`not an AppError but ${(error as Error)?.name}: ${(error as Error)?.message}`);
    return { code: error.reasonCode, message: error.message };
  }
}

describe('fuzz (no stack): event details, policy files', () => {
  it('parseGovernanceEvent accepts every contract-valid event', () => {
    logSeed('valid events', EVENT_SEED, 300);
    fc.assert(
      fc.property(validEventArb, (event) => {
        const parsed = parseGovernanceEvent(event);
        expect(parsed.ok, JSON.stringify(parsed)).toBe(true);
      }),
      { seed: EVENT_SEED, numRuns: 300 },
    );
  });

  it('parseGovernanceEvent never throws and refuses every broken event with a reason', () => {
    logSeed('invalid events', EVENT_SEED, 2000);
    const byMutation = new Map<string, number>();
    fc.assert(
      fc.property(invalidEventArb, ({ mutation, event }) => {
        byMutation.set(mutation, (byMutation.get(mutation) ?? 0) + 1);
        const parsed = parseGovernanceEvent(event);
        expect(parsed.ok, `${mutation}: ${JSON.stringify(event)}`).toBe(false);
        if (parsed.ok) return;
        expect(parsed.error.length).toBeGreaterThan(5);
        expect(parsed.error.length).toBeLessThan(2000);
      }),
      { seed: EVENT_SEED, numRuns: 2000 },
    );
    console.log(`[fuzz] invalid events by mutation: ${JSON.stringify(Object.fromEntries(byMutation))}`);
  });

  it('parseGovernanceEvent reasons are one line: the CLI prints them as its one-line reason, ingest logs them', () => {
    logSeed('one-line reasons', EVENT_SEED, 2000);
    fc.assert(
      fc.property(invalidEventArb, ({ mutation, event }) => {
        const parsed = parseGovernanceEvent(event);
        if (!parsed.ok) expect(parsed.error, `${mutation}: ${JSON.stringify(parsed.error)}`).toMatch(ONE_LINE);
      }),
      { seed: EVENT_SEED, numRuns: 2000 },
    );
  });

  it('parseGovernanceEvent never throws on arbitrary values (anything, deep JSON, prototype keys)', () => {
    logSeed('arbitrary values', EVENT_SEED, 1000);
    fc.assert(
      fc.property(fc.oneof(fc.anything({ withNullPrototype: true, withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true }), fc.jsonValue({ depthSize: 'large' })), (value) => {
        const parsed = parseGovernanceEvent(value);
        if (parsed.ok) expect(Object.keys(EVENT_TYPES)).toContain(parsed.event.detailType);
        else expect(typeof parsed.error).toBe('string');
      }),
      { seed: EVENT_SEED, numRuns: 1000 },
    );
  });

  it('parseIncomingEvent: every variant of the providers\' samples yields strictly valid triggers, each with its own de-duplication key', () => {
    logSeed('provider signals', EVENT_SEED, 500);
    fc.assert(
      fc.property(validSignalArb, (event) => {
        const parsed = parseIncomingEvent(event);
        expect(parsed.outcome, JSON.stringify(parsed)).toBe('triggers');
        const triggers = parsed.outcome === 'triggers' ? parsed.triggers : [];
        expect(triggers.length).toBeGreaterThan(0);
        for (const trigger of triggers) expect(governanceEventSchema.safeParse(JSON.parse(JSON.stringify(trigger))).success, JSON.stringify(trigger)).toBe(true);
        expect(new Set(triggers.map((t) => t.id)).size).toBe(triggers.length);
      }),
      { seed: EVENT_SEED, numRuns: 500 },
    );
  });

  it('parseIncomingEvent: broken provider events are refused or ignored with a one-line reason, never thrown', () => {
    logSeed('broken provider signals', EVENT_SEED, 2000);
    const byOutcome = new Map<string, number>();
    fc.assert(
      fc.property(brokenSignalArb, ({ mutation, event }) => {
        const parsed = parseIncomingEvent(event);
        byOutcome.set(parsed.outcome, (byOutcome.get(parsed.outcome) ?? 0) + 1);
        if (parsed.outcome === 'invalid') expect(parsed.error, mutation).toMatch(ONE_LINE);
        if (parsed.outcome === 'ignored') expect(parsed.reason, mutation).toMatch(ONE_LINE);
        if (parsed.outcome === 'triggers') for (const t of parsed.triggers) expect(governanceEventSchema.safeParse(JSON.parse(JSON.stringify(t))).success, mutation).toBe(true);
      }),
      { seed: EVENT_SEED, numRuns: 2000 },
    );
    console.log(`[fuzz] broken provider events by outcome: ${JSON.stringify(Object.fromEntries(byOutcome))}`);
  });

  it('parsePolicy: every broken variant of the default policy is POLICY_INVALID naming the broken part', () => {
    logSeed('invalid policy objects', POLICY_SEED, 600);
    fc.assert(
      fc.property(invalidPolicyObjectArb, fc.boolean(), ({ mutation, path: broken, policy }, asJson) => {
        const text = asJson ? JSON.stringify(policy) : toYaml(policy);
        const outcome = policyError(() => parsePolicy(text));
        expect(outcome, mutation).not.toBe('accepted');
        if (outcome === 'accepted') return;
        expect(outcome.code, mutation).toBe('POLICY_INVALID');
        expect(outcome.message, mutation).toMatch(/^policy is (invalid|not valid YAML|empty)/);
        expect(outcome.message, `${mutation} → ${outcome.message}`).toContain(broken);
      }),
      { seed: POLICY_SEED, numRuns: 600 },
    );
  });

  it('parsePolicy: garbage text (random, binary, YAML bombs, deep nesting, spliced bytes) never crashes: POLICY_INVALID or a valid policy', () => {
    logSeed('garbage policy text', POLICY_SEED, 600);
    let accepted = 0;
    fc.assert(
      fc.property(garbagePolicyTextArb, (text) => {
        const started = Date.now();
        const outcome = policyError(() => parsePolicy(text));
        expect(Date.now() - started, 'a policy parse must not hang').toBeLessThan(2000);
        if (outcome === 'accepted') accepted += 1;
        else {
          expect(outcome.code).toBe('POLICY_INVALID');
          expect(outcome.message.length).toBeGreaterThan(10);
          expect(outcome.message.length, outcome.message.slice(0, 200)).toBeLessThan(4000);
        }
      }),
      { seed: POLICY_SEED, numRuns: 600 },
    );
    console.log(`[fuzz] garbage policy texts still valid (bytes spliced into a comment or description): ${accepted}`);
  });

  it('verifySignedPolicy fails closed: tampered text, malformed or mismatched .sig, wrong or garbage key → POLICY_INVALID', () => {
    const trusted = generateKeyPairSync('ed25519');
    const other = generateKeyPairSync('ed25519');
    const trustedPub = trusted.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const privatePem = trusted.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const otherPrivatePem = other.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const good = signPolicy(DEFAULT_POLICY_TEXT, privatePem);
    const goodSig = JSON.stringify(good);
    expect(verifySignedPolicy(DEFAULT_POLICY_TEXT, goodSig, trustedPub).version).toBe(good.version);

    const sigMutation = fc.oneof(
      fc.constantFrom('version', 'keyId', 'signature', 'signedAt').chain((field) => fc.oneof(fc.string({ maxLength: 100 }), fc.integer(), fc.constant(null)).map((v) => ({ ...good, [field]: v }))).filter((s) => JSON.stringify(s) !== goodSig),
      fc.constantFrom('version', 'keyId', 'signature', 'signedAt').map((field) => { const { [field as keyof typeof good]: _x, ...rest } = good; return rest; }),
      fc.tuple(fc.string({ minLength: 1, maxLength: 10 }), fc.jsonValue()).map(([k, v]) => ({ ...good, [k in good ? `${k}2` : k]: v })),
      // one character of the signature changed (still base64 of 64 bytes)
      fc.nat(85).map((i) => ({ ...good, signature: good.signature.slice(0, i) + (good.signature[i] === 'A' ? 'B' : 'A') + good.signature.slice(i + 1) })),
      // non-canonical base64 of the same bytes
      fc.constant({ ...good, signature: good.signature.replace(/==$/, '=') }),
      fc.constant({ ...good, signedAt: new Date(Date.parse(good.signedAt) + 1000).toISOString() }),
      // a real signature of the same policy by another key
      fc.constant(signPolicy(DEFAULT_POLICY_TEXT, otherPrivatePem)),
      // a real signature of another policy by the trusted key
      fc.constant(signPolicy(DEFAULT_POLICY_TEXT.replace('name: default', 'name: other'), privatePem)),
    ).map((s) => JSON.stringify(s));
    const sigGarbage = fc.oneof(fc.string({ maxLength: 200 }), fc.jsonValue().map((v) => JSON.stringify(v)), fc.constant(''), fc.constant(`${goodSig}\n{}`));
    const textTamper = fc.oneof(
      fc.constant(`${DEFAULT_POLICY_TEXT}\n# appended comment\n`),
      fc.constant(DEFAULT_POLICY_TEXT.replace('\n', '\r\n')),
      fc.constant(DEFAULT_POLICY_TEXT.replace('users: [deactivateKeys, revokeSessions]', 'users: []')),
      fc.constant(DEFAULT_POLICY_TEXT.replace('- secops@example.com', '- mallory@example.com')),
      fc.constant(`\uFEFF${DEFAULT_POLICY_TEXT}`),
      fc.tuple(fc.nat(), fc.string({ minLength: 1, maxLength: 3 })).map(([i, s]) => { const at = i % DEFAULT_POLICY_TEXT.length; return DEFAULT_POLICY_TEXT.slice(0, at) + s + DEFAULT_POLICY_TEXT.slice(at); }),
    );
    const keyGarbage = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.constant(''),
      fc.constant(other.publicKey.export({ type: 'spki', format: 'pem' }).toString()),
      fc.constant(otherPrivatePem),
      fc.constant(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString()),
      fc.constant(trustedPub.replace(/[A-Za-z]/, 'Q')),
    );
    const caseArb = fc.oneof(
      sigMutation.map((sig) => ({ kind: 'sig mutated', text: DEFAULT_POLICY_TEXT, sig, pub: trustedPub })),
      sigGarbage.map((sig) => ({ kind: 'sig garbage', text: DEFAULT_POLICY_TEXT, sig, pub: trustedPub })),
      textTamper.map((text) => ({ kind: 'text tampered', text, sig: goodSig, pub: trustedPub })),
      keyGarbage.map((pub) => ({ kind: 'key', text: DEFAULT_POLICY_TEXT, sig: goodSig, pub })),
      garbagePolicyTextArb.map((text) => ({ kind: 'text garbage', text, sig: goodSig, pub: trustedPub })),
    );
    logSeed('signed policies', POLICY_SEED, 800);
    const kinds = new Map<string, number>();
    fc.assert(
      fc.property(caseArb, ({ kind, text, sig, pub }) => {
        kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
        const outcome = policyError(() => verifySignedPolicy(text, sig, pub));
        // The one way a changed input may still verify: the splice kept the exact bytes.
        if (outcome === 'accepted') {
          expect(text === DEFAULT_POLICY_TEXT && pub === trustedPub && sig === goodSig, `${kind} verified: ${sig.slice(0, 80)}`).toBe(true);
          return;
        }
        expect(outcome.code, kind).toBe('POLICY_INVALID');
        expect(outcome.message.length).toBeGreaterThan(10);
      }),
      { seed: POLICY_SEED, numRuns: 800 },
    );
    console.log(`[fuzz] signed-policy cases by kind: ${JSON.stringify(Object.fromEntries(kinds))}`);
  });
});

interface ChangeRow {
  changeId: string;
  status: string;
}
interface StatsDoc {
  aws: Record<string, Record<string, number>>;
  lambda: Record<string, number>;
}

/** The calls that write: anything but Get/List/Describe/… reads. */
function writeCalls(stats: StatsDoc, service: string): Record<string, number> {
  return Object.fromEntries(Object.entries(stats.aws[service] ?? {}).filter(([action]) => !/^(Get|List|Describe|Query|Scan|BatchGet|Simulate)/.test(action)));
}

describe('fuzz through a local stack: nhigov event, nhigov policy activate, POST /approvals/{id}', () => {
  let stack: TestStack;
  let dir: string;
  beforeAll(async () => {
    stack = await startTestStack();
    dir = mkdtempSync(path.join(stack.stateDir, 'fuzz-'));
  });
  afterAll(() => stack?.stop());

  it('nhigov event - : malformed events exit 2 with INPUT_INVALID on one line; no change, nothing written', async () => {
    const before = stack.json<ChangeRow[]>(['changes']);
    const statsBefore = stack.json<StatsDoc>(['stats']);
    const samples = fc.sample(invalidEventArb, { seed: EVENT_SEED, numRuns: 30 });
    logSeed('nhigov event -', EVENT_SEED, samples.length);
    // And input that is not JSON at all.
    const raw = [...samples.map((s) => ({ mutation: s.mutation, text: JSON.stringify(s.event) })), { mutation: 'not JSON', text: '{"source": "hr.system", ' }, { mutation: 'empty stdin', text: '' }, { mutation: 'binary', text: '\u0000\u0001\uFFFD' }];
    const failures: string[] = [];
    const multiLine: string[] = [];
    const results = await mapLimit(raw, 3, ({ text }) => cliAsync(stack, ['event', '-', '--json'], text));
    for (const [i, { mutation, text }] of raw.entries()) {
      const result = results[i]!;
      const problems = [
        result.code !== 2 && `exit ${result.code}`,
        !result.stderr.includes('INPUT_INVALID') && 'no INPUT_INVALID on stderr',
        result.stdout !== '' && `stdout: ${result.stdout.slice(0, 100)}`,
      ].filter(Boolean);
      if (problems.length) failures.push(`${mutation} ${text.slice(0, 120)} → ${problems.join(', ')}: ${JSON.stringify(result.stderr.slice(0, 300))}`);
      const lines = result.stderr.trimEnd().split('\n').length;
      if (lines !== 1) multiLine.push(`${mutation} ${text.slice(0, 120)} → stderr has ${lines} lines: ${JSON.stringify(result.stderr.slice(0, 300))}`);
    }
    expect(failures, failures.join('\n')).toEqual([]);
    expect(stack.json<ChangeRow[]>(['changes'])).toEqual(before);
    const statsAfter = stack.json<StatsDoc>(['stats']);
    expect(writeCalls(statsAfter, 'iam')).toEqual(writeCalls(statsBefore, 'iam'));
    expect(writeCalls(statsAfter, 'secretsmanager')).toEqual(writeCalls(statsBefore, 'secretsmanager'));
    expect(statsAfter.aws.sfn?.StartExecution ?? 0).toBe(statsBefore.aws.sfn?.StartExecution ?? 0);
    console.log(`[fuzz] nhigov event: ${raw.length} malformed inputs refused`);
    // The contract's "one-line reason on stderr" (checked last, so the invariants above always run).
    expect(multiLine, multiLine.join('\n')).toEqual([]);
  });

  it('malformed details put straight on the bus (bypassing the CLI) are refused by ingest: no change, nothing written', async () => {
    const before = stack.json<ChangeRow[]>(['changes']);
    const statsBefore = stack.json<StatsDoc>(['stats']);
    const refusedBefore = (readFileSync(path.join(stack.stateDir, 'gateway.log'), 'utf8').match(/event refused/g) ?? []).length;
    // Only JSON-object details: EventBridge refuses any other Detail (and moto answers a 500 for `null`).
    const samples = fc.sample(routableInvalidEventArb.filter(({ event }) => event.detail !== null && typeof event.detail === 'object' && !Array.isArray(event.detail)), { seed: EVENT_SEED + 1, numRuns: 12 });
    logSeed('PutEvents', EVENT_SEED + 1, samples.length);
    // The custom sources' rules are on the governance bus (the stack's EventBusName).
    const busName = (await stack.context()).outputs.eventBusName;
    for (const { event } of samples) {
        const detail = JSON.stringify(event.detail);
      await stack.clients.events.send(new PutEventsCommand({ Entries: [{ Source: String(event.source), DetailType: String(event['detail-type']), Detail: detail, EventBusName: busName }] }));
    }
    // A valid event after them: when its change exists, the bus has delivered everything before it.
    const owner = ownerEmail('nobody');
    const control = stack.json<{ changeId: string }>(['event', eventFile(dir, terminationEvent(owner))]);
    let refused = 0;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      refused = (readFileSync(path.join(stack.stateDir, 'gateway.log'), 'utf8').match(/event refused/g) ?? []).length - refusedBefore;
      if (refused >= samples.length) break;
      await sleep(250);
    }
    expect(refused).toBeGreaterThanOrEqual(samples.length);
    const after = stack.json<ChangeRow[]>(['changes']);
    expect(after.map((c) => c.changeId).sort()).toEqual([...before.map((c) => c.changeId), control.changeId].sort());
    const statsAfter = stack.json<StatsDoc>(['stats']);
    expect(writeCalls(statsAfter, 'iam')).toEqual(writeCalls(statsBefore, 'iam'));
    expect((statsAfter.aws.sfn?.StartExecution ?? 0) - (statsBefore.aws.sfn?.StartExecution ?? 0)).toBe(1);
    console.log(`[fuzz] PutEvents: ${samples.length} malformed details sent, ${refused} refused by ingest (INPUT_INVALID)`);
  });

  it('nhigov policy activate: broken, unsigned, tampered or foreign-signed policies exit 2 with POLICY_INVALID; the active version is unchanged', async () => {
    const status = () => stack.json<{ active: { version: string; activatedAt: string } | null; previous: unknown[] }>(['policy', 'status']);
    const before = status();
    expect(before.active).not.toBeNull();
    const key = path.join(stack.stateDir, 'policy.key');
    const foreign = path.join(dir, 'foreign');
    stack.json(['policy', 'keygen', '--out', foreign]);
    const validText = DEFAULT_POLICY_TEXT;
    const write = (name: string, text: string, sig?: string): string => {
      const file = path.join(dir, `${name}.yaml`);
      writeFileSync(file, text);
      if (sig !== undefined) writeFileSync(`${file}.sig`, sig);
      return file;
    };
    // A validly signed variant, to steal a real .sig from.
    const donor = write('donor', validText.replace('name: default', 'name: donor'));
    stack.json(['policy', 'sign', donor, '--key', key]);
    const donorSig = readFileSync(`${donor}.sig`, 'utf8');
    const foreignSigned = write('foreign-signed', validText.replace('name: default', 'name: foreign'));
    stack.json(['policy', 'sign', foreignSigned, '--key', `${foreign}.key`]);

    const mutated = fc.sample(invalidPolicyObjectArb, { seed: POLICY_SEED, numRuns: 3 });
    logSeed('policy activate', POLICY_SEED, mutated.length);
    const cases: Array<{ name: string; file: string }> = [
      ...mutated.map((m, i) => ({ name: `schema: ${m.mutation}`, file: write(`mutated-${i}`, toYaml(m.policy), donorSig) })),
      { name: 'garbage YAML with a stolen .sig', file: write('garbage', 'apiVersion: [\n', donorSig) },
      { name: 'unsigned', file: write('unsigned', validText.replace('name: default', 'name: unsigned')) },
      { name: 'tampered after signing', file: write('tampered', readFileSync(donor, 'utf8').replace('timeoutSeconds: 86400', 'timeoutSeconds: 60'), donorSig) },
      { name: 'comment added after signing', file: write('commented', `${readFileSync(donor, 'utf8')}# innocuous\n`, donorSig) },
      { name: 'signed by a key the runtime does not trust', file: foreignSigned },
      { name: '.sig not JSON', file: write('badsig', readFileSync(donor, 'utf8'), 'not json') },
      { name: '.sig with an extra field', file: write('extrasig', readFileSync(donor, 'utf8'), JSON.stringify({ ...JSON.parse(donorSig), trusted: true })) },
    ];
    const failures: string[] = [];
    const results = await mapLimit(cases, 3, ({ file }) => cliAsync(stack, ['policy', 'activate', file, '--as', 'policy-admin@example.com', '--json']));
    for (const [i, { name }] of cases.entries()) {
      const result = results[i]!;
      const problems = [result.code !== 2 && `exit ${result.code}`, !result.stderr.includes('POLICY_INVALID') && 'no POLICY_INVALID', result.stderr.trimEnd().split('\n').length !== 1 && 'stderr not one line'].filter(Boolean);
      if (problems.length) failures.push(`${name} → ${problems.join(', ')}: ${result.stderr.slice(0, 300)}`);
    }
    expect(failures, failures.join('\n')).toEqual([]);
    const after = status();
    expect(after.active).toEqual(before.active);
    expect(after.previous).toEqual(before.previous);
    console.log(`[fuzz] policy activate: ${cases.length} bad policies refused, active ${after.active?.version.slice(0, 12)} unchanged`);
  });

  it('POST /approvals/{id}: random and malformed form bodies never 5xx, never decide; the change stays AWAITING_APPROVAL', async () => {
    const owner = ownerEmail();
    const user = await createGovernedUser(stack.direct, { owner, env: 'prod', keys: 1 });
    const { changeId } = stack.json<{ changeId: string }>(['event', eventFile(dir, terminationEvent(owner))]);
    const waiting = stack.json<ReturnType<typeof show>>(['wait', changeId, '--timeout', '90']);
    expect(waiting.status).toBe('AWAITING_APPROVAL');
    const approvalId = waiting.approval?.approvalId ?? '';
    const record = await approvalRecord(stack, changeId);
    const valid = await mintLink(stack, { approvalId, approver: SECOPS, exp: record.exp });
    const validForm = { approver: valid.approver, exp: String(valid.exp), via: valid.channel, sig: valid.sig, decision: 'approve', comment: '' };

    const fieldValue = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'grapheme', maxLength: 20 }),
      fc.constantFrom('', ' ', '0', '-1', '1e3', '9'.repeat(13), '999999999999', 'null', 'undefined', '[object Object]', 'approve ', 'APPROVE', 'reject\u0000', '%00', '<script>alert(1)</script>', "' OR 1=1 --", '${jndi:ldap://x}', '\u202eevorppa'),
      fc.constantFrom(valid.sig, valid.sig.toUpperCase(), `${valid.sig}=`, `${valid.sig} `, valid.sig.slice(1), valid.sig.replace(/-/g, '+').replace(/_/g, '/')),
      fc.constantFrom(APPROVER, SECOPS, owner, 'mallory@example.com', `${SECOPS}.evil.com`, 'secops@example.com\r\nX-Injected: 1'),
    );
    const field = fc.constantFrom('approver', 'exp', 'via', 'sig', 'decision', 'comment');
    // Each body: the valid form with some fields replaced, dropped or repeated, or something else entirely.
    const formBody = fc.oneof(
      { weight: 5, arbitrary: fc.tuple(fc.array(fc.tuple(field, fieldValue), { minLength: 1, maxLength: 4 }), fc.array(field, { maxLength: 2 }), fc.array(fc.tuple(fc.oneof(field, fc.string({ maxLength: 8 })), fieldValue), { maxLength: 3 })).map(([replace, drop, extra]) => {
        const form: Record<string, string> = { ...validForm };
        for (const [k, v] of replace) form[k] = v;
        for (const k of drop) delete form[k];
        const params = new URLSearchParams(form);
        for (const [k, v] of extra) params.append(k, v);
        return { contentType: 'application/x-www-form-urlencoded', body: params.toString() as string | Buffer };
      }) },
      { weight: 1, arbitrary: fc.string({ maxLength: 300 }).map((body) => ({ contentType: 'application/x-www-form-urlencoded', body: body as string | Buffer })) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => ({ contentType: 'application/octet-stream', body: Buffer.from(bytes) as string | Buffer })) },
      { weight: 1, arbitrary: fc.jsonValue().map((v) => ({ contentType: 'application/json', body: JSON.stringify({ ...validForm, sig: 'x', extra: v }) as string | Buffer })) },
      { weight: 1, arbitrary: fc.constantFrom(
        { contentType: 'application/x-www-form-urlencoded', body: `${new URLSearchParams({ ...validForm, sig: 'A'.repeat(43) })}&comment=${'x'.repeat(200_000)}` as string | Buffer },
        { contentType: 'application/x-www-form-urlencoded', body: `approver=%E0%A4%A&exp=%ZZ&sig=%&decision=approve` as string | Buffer },
        { contentType: 'multipart/form-data; boundary=x', body: `--x\r\nContent-Disposition: form-data; name="decision"\r\n\r\napprove\r\n--x--` as string | Buffer },
        { contentType: 'application/x-www-form-urlencoded', body: `${'a=1&'.repeat(20_000)}decision=approve` as string | Buffer },
      ) },
    );
    // The one form that would legitimately decide: the valid link itself (or a spelling of it that normalizes to it).
    const wouldDecide = (body: string | Buffer): boolean => {
      if (typeof body !== 'string') return false;
      const f = new URLSearchParams(body);
      const decision = f.get('decision');
      return (decision === 'approve' || decision === 'reject') && f.get('sig') === valid.sig && (f.get('approver') ?? '').trim().toLowerCase() === valid.approver && /^\d{1,12}$/.test(f.get('exp') ?? '') && Number(f.get('exp')) === valid.exp && (f.get('via') ?? 'web') === valid.channel;
    };
    const numRuns = 60;
    const samples = fc.sample(formBody, { seed: FORM_SEED, numRuns: numRuns * 2 }).filter((s) => !wouldDecide(s.body)).slice(0, numRuns);
    logSeed('approval POST bodies', FORM_SEED, samples.length);
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    let refusedOnRecord = 0;
    // Also a few paths: other ids, encodings, traversal.
    const paths = [approvalId, approvalId, approvalId, `${approvalId}x`, encodeURIComponent(`${approvalId}/../x`), '%E0%A4%A', 'A'.repeat(200), `${approvalId}%00`, '..%2F..%2Fetc'];
    for (const [i, sample] of samples.entries()) {
      const id = paths[i % paths.length]!;
      const reply = await fetch(`${stack.endpoint}/approvals/${id}`, { method: 'POST', headers: { 'content-type': sample.contentType, accept: i % 2 ? 'application/json' : 'text/html' }, body: sample.body });
      const text = await reply.text();
      statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
      if (reply.status >= 500 || reply.status === 200) failures.push(`${reply.status} for ${id} ${String(sample.body).slice(0, 200)}: ${text.slice(0, 200)}`);
      if (id === approvalId && [403, 409, 410].includes(reply.status)) refusedOnRecord += 1;
    }
    expect(failures, failures.join('\n')).toEqual([]);
    const after = show(stack, changeId);
    expect(after.status).toBe('AWAITING_APPROVAL');
    expect((await approvalRecord(stack, changeId)).status).toBe('PENDING');
    const types = after.evidence.map((e) => e.type);
    expect(types).not.toContain('APPROVED');
    expect(types).not.toContain('REJECTED');
    expect(types).not.toContain('WRITE_ATTEMPTED');
    // None of these bodies carries a genuine link: a forged or malformed POST is a metric and a log
    // line, never evidence (an attacker holding the approval id cannot write to the chain).
    expect(refusedOnRecord).toBeGreaterThan(0);
    expect(types.filter((t) => t === 'APPROVAL_REFUSED')).toEqual([]);
    expect(Object.values(await keyStatuses(stack.direct, user.userName))).toEqual(['Active']);
    expect(await hasSessionDeny(stack, user.userName)).toBe(false);
    expect(stack.cli(['evidence', 'verify', changeId]).code).toBe(0);
    console.log(`[fuzz] approval POST: ${samples.length} bodies, statuses ${JSON.stringify(Object.fromEntries(statuses))}, ${refusedOnRecord} refusals recorded`);

    // Control: the untouched valid link still decides (the fuzz did not burn it).
    const form = new URLSearchParams(validForm);
    const decided = await fetch(`${stack.endpoint}/approvals/${approvalId}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: form.toString() });
    expect(decided.status).toBe(200);
  });
});
