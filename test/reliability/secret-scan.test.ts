import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { GetSecretValueCommand, ListSecretVersionIdsCommand } from '@aws-sdk/client-secrets-manager';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../lambdas/stores/dynamo.js';
import { startTestStack, type CliResult, type TestStack } from '../support/local-stack.js';
import { createGovernedUser, createKeySecret, eventFile, keyStatuses, ownerEmail, terminationEvent, unique } from '../support/estate.js';
import { activatePolicyVariant, APPROVER, LINK_KEY_SECRET, linkFromUrl, linksIn, postDecision, SECOPS, sentMail, slackMessages, waitForStatus } from '../support/approvals.js';
import { cliAsync, mapLimit } from './support/cli-async.js';

/**
 * Secret hygiene across a rotation (Credential Exposed on a governed secret) and a termination
 * (whose owner's secret is rotated, with an approval by link): every text an operator could
 * see — logs, evidence in every format, plans, notifications, console pages, CLI output — is
 * scanned for every secret access key that ever existed, every task token and the link key.
 */

interface Corpus {
  name: string;
  text: string;
}

/** The spellings a secret could leak in: raw, JSON-escaped, URL-encoded, form-encoded, base64. */
function spellings(secret: string): string[] {
  const forms = new Set([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret), new URLSearchParams({ x: secret }).toString().slice(2), Buffer.from(secret, 'utf8').toString('base64')]);
  return [...forms].filter((s) => s.length >= 16);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? filesUnder(file) : [file];
  });
}

describe('secret scan: no secret value, access key secret, task token or link key in anything an operator sees', () => {
  let stack: TestStack;
  const cliOutputs: Corpus[] = [];
  const createdSecretKeys: string[] = [];
  const changeIds: string[] = [];
  const secretNames: string[] = [];
  const apiReplies: Corpus[] = [];

  async function cli(args: string[], input?: string): Promise<CliResult> {
    const result = await cliAsync(stack, args, input);
    cliOutputs.push({ name: `nhigov ${args.join(' ')}`, text: `${result.stdout}\n${result.stderr}` });
    return result;
  }
  async function json<T>(args: string[]): Promise<T> {
    const result = await cli([...args, '--json']);
    if (result.code !== 0) throw new Error(`nhigov ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  }

  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack?.stop());

  it('runs a rotation and a termination with an approval by link, one decision first undeliverable (the scenario to scan)', async () => {
    // 1. Credential Exposed on a governed secret holding an IAM key → the secret is rotated.
    const exposedOwner = ownerEmail();
    const u1 = await createGovernedUser(stack.direct, { owner: exposedOwner, keys: 1 });
    const s1 = await createKeySecret(stack.direct, { owner: exposedOwner, userName: u1.userName, key: u1.keys[0]! });
    // 2. A termination: the leaver owns a prod user (keys deactivated) and a prod secret (rotated)
    //    holding the key of a user someone else owns.
    const leaver = ownerEmail('leaver');
    const u2 = await createGovernedUser(stack.direct, { owner: leaver, env: 'prod', keys: 2 });
    const u3 = await createGovernedUser(stack.direct, { owner: ownerEmail(), keys: 1 });
    const s2 = await createKeySecret(stack.direct, { owner: leaver, userName: u3.userName, key: u3.keys[0]!, env: 'prod' });
    secretNames.push(s1, s2);
    createdSecretKeys.push(...[u1, u2, u3].flatMap((u) => u.keys.map((k) => k.SecretAccessKey)));

    const exposure = eventFile(stack.stateDir, { id: unique('exposed'), source: 'security.findings', 'detail-type': 'Credential Exposed', detail: { nhi: s1, severity: 'high' } });
    const [first, second] = await Promise.all([json<{ changeId: string }>(['event', exposure]), json<{ changeId: string }>(['event', eventFile(stack.stateDir, terminationEvent(leaver))])]);
    changeIds.push(first.changeId, second.changeId);

    // The exposure is contained first; if an approval is asked after the fact, secops approves by email link.
    const exposed = await json<{ status: string }>(['wait', first.changeId, '--timeout', '90']);
    if (exposed.status === 'AWAITING_APPROVAL') {
      const mail = (await sentMail(stack)).find((m) => m.body.includes(first.changeId) && m.destinations.ToAddresses?.includes(SECOPS));
      const link = linkFromUrl(linksIn(mail?.body ?? '')[0] ?? '');
      const page = await fetch(`${stack.endpoint}/approvals/${link.approvalId}?${new URLSearchParams({ approver: link.approver, exp: String(link.exp), via: link.channel, sig: link.sig })}`);
      apiReplies.push({ name: 'approval page (exposure)', text: await page.text() });
      const decided = await postDecision(stack, link, 'approve', 'rotation ok');
      apiReplies.push({ name: 'approval POST (exposure)', text: JSON.stringify(decided) });
      expect(decided.status).toBe(200);
    }
    await waitForStatus(stack, first.changeId, 'VERIFIED');

    // The termination waits for approval (prod): approver decides through the Slack link.
    await waitForStatus(stack, second.changeId, 'AWAITING_APPROVAL');
    // The channel message names the change and carries no link; the approver's own link is in their direct message.
    const messages = (await slackMessages(stack)).filter((m) => JSON.stringify(m).includes(second.changeId));
    const slack = messages.flatMap((m) => linksIn(JSON.stringify(m.payload ?? {})).map(linkFromUrl)).find((l) => l.approver === APPROVER);
    expect(slack).toBeDefined();
    const page = await fetch(`${stack.endpoint}/approvals/${slack!.approvalId}?${new URLSearchParams({ approver: slack!.approver, exp: String(slack!.exp), via: slack!.channel, sig: slack!.sig })}`);
    apiReplies.push({ name: 'approval page (termination)', text: await page.text() });
    // First the workflow cannot be reached (Step Functions answers 5xx): the decision is not taken
    // (503, the link stays usable) and the error path logs; then it goes through.
    await stack.fault({ service: 'sfn', action: 'SendTaskSuccess', mode: 'error5xx', times: 10 });
    const undelivered = await postDecision(stack, slack!, 'approve', 'offboarding');
    apiReplies.push({ name: 'approval POST undelivered (termination)', text: JSON.stringify(undelivered) });
    await stack.clearFaults();
    expect(undelivered).toMatchObject({ status: 503, body: { reason: 'DELIVERY_FAILED' } });
    const decided = await postDecision(stack, slack!, 'approve', 'offboarding');
    apiReplies.push({ name: 'approval POST (termination)', text: JSON.stringify(decided) });
    expect(decided.status).toBe(200);
    // A replay, refused: its answer is operator-visible too.
    apiReplies.push({ name: 'approval replay', text: JSON.stringify(await postDecision(stack, slack!, 'reject')) });
    await waitForStatus(stack, second.changeId, 'VERIFIED');

    // The rotations happened: each secret now holds a new key, the old one is inactive.
    expect(Object.values(await keyStatuses(stack.direct, u2.userName))).toEqual(['Inactive', 'Inactive']);
    const u1Keys = await keyStatuses(stack.direct, u1.userName);
    expect(u1Keys[u1.keyIds[0]!]).toBe('Inactive');
    expect(Object.values(u1Keys)).toContain('Active');
    const u3Keys = await keyStatuses(stack.direct, u3.userName);
    expect(u3Keys[u3.keyIds[0]!]).toBe('Inactive');
    expect(Object.values(u3Keys)).toContain('Active');
  });

  it('an exposed secret whose rotation cannot be verified: all or nothing, rolled back, no orphan key left active', async () => {
    const exposedOwner = ownerEmail();
    // 3. A rotation that cannot be verified (the new secret value is swallowed): all or nothing,
    //    rolled back; its error paths log too. The new key it made is never in the secret: the
    //    pattern scan below looks for any access key secret, known or not.
    const u4 = await createGovernedUser(stack.direct, { owner: exposedOwner, keys: 1 });
    const s3 = await createKeySecret(stack.direct, { owner: exposedOwner, userName: u4.userName, key: u4.keys[0]! });
    secretNames.push(s3);
    createdSecretKeys.push(u4.keys[0]!.SecretAccessKey);
    // Verify gives up after 5 s here (the default 60 s, twice, would not fit this file's budget).
    activatePolicyVariant(stack, 'short-verify', (policy) => {
      policy.failureHandling.verifyTimeoutSeconds = 5;
    });
    await stack.fault({ service: 'secretsmanager', action: 'PutSecretValue', mode: 'swallow', times: 5 });
    const third = await json<{ changeId: string }>(['event', eventFile(stack.stateDir, { id: unique('exposed'), source: 'security.findings', 'detail-type': 'Credential Exposed', detail: { nhi: s3, severity: 'critical' } })]);
    changeIds.push(third.changeId);
    const failed = await json<{ status: string; reasonCodes: string[] }>(['wait', third.changeId, '--timeout', '90']);
    await stack.clearFaults();
    const keysAfter = await keyStatuses(stack.direct, u4.userName);
    const held = JSON.parse((await stack.direct.secrets.send(new GetSecretValueCommand({ SecretId: s3 }))).SecretString ?? '{}') as { AccessKeyId?: string };
    console.log(`[secret-scan] unverifiable rotation ended ${failed.status} ${failed.reasonCodes.join(',')}; keys ${JSON.stringify(keysAfter)} (before: ${u4.keyIds[0]} Active); secret holds ${held.AccessKeyId}`);
    // docs/policy.md: "a rotation is all-or-nothing and is rolled back to the previous key and secret version, ending ROLLED_BACK".
    expect(held.AccessKeyId).toBe(u4.keyIds[0]);
    // No key the rotation made may be left active with its secret held nowhere.
    expect(keysAfter).toEqual({ [u4.keyIds[0]!]: 'Active' });
    expect(failed.status).toBe('ROLLED_BACK');
  });

  it('none of them appears in logs, evidence, plans, notifications, console pages or CLI output', async () => {
    expect(changeIds.length).toBeGreaterThanOrEqual(2);
    // ---- the needles
    const needles: Array<{ kind: string; value: string }> = [];
    for (const secret of createdSecretKeys) needles.push({ kind: 'seeded SecretAccessKey', value: secret });
    for (const name of secretNames) {
      const versions = await stack.direct.secrets.send(new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true }));
      for (const version of versions.Versions ?? []) {
        const value = await stack.direct.secrets.send(new GetSecretValueCommand({ SecretId: name, VersionId: version.VersionId }));
        const held = JSON.parse(value.SecretString ?? '{}') as { SecretAccessKey?: string };
        if (held.SecretAccessKey && !createdSecretKeys.includes(held.SecretAccessKey)) needles.push({ kind: `rotated SecretAccessKey (${name} ${version.VersionStages?.join(',')})`, value: held.SecretAccessKey });
        needles.push({ kind: `secret value (${name})`, value: value.SecretString ?? '' });
      }
    }
    expect(needles.filter((n) => n.kind.startsWith('rotated')).length).toBeGreaterThanOrEqual(2);
    const db = createDocumentClient(stack.direct.dynamodb);
    const approvals = await db.send(new ScanCommand({ TableName: stack.outputs.tables.approvals }));
    const tokens = (approvals.Items ?? []).map((item) => String(item.taskToken ?? '')).filter((t) => t.length > 0);
    expect(tokens.length).toBeGreaterThanOrEqual(1);
    for (const token of tokens) needles.push({ kind: 'task token', value: token });
    const hmac = await stack.direct.secrets.send(new GetSecretValueCommand({ SecretId: LINK_KEY_SECRET }));
    needles.push({ kind: 'approval link HMAC key', value: hmac.SecretString ?? '' });
    expect(needles.every((n) => n.value.length >= 16)).toBe(true);

    // ---- the haystack: everything an operator could see
    const corpus: Corpus[] = [];
    const changes = await json<Array<{ changeId: string }>>(['changes']);
    const allIds = [...new Set([...changeIds, ...changes.map((c) => c.changeId)])];
    await mapLimit(allIds, 2, async (id) => {
      await json(['show', id]);
      for (const format of ['jsonl', 'json', 'csv', 'html']) {
        const out = await cli(['evidence', id, '--format', format]);
        expect(out.code).toBe(0);
      }
      await cli(['show', id]);
      await cli(['evidence', 'verify', id]);
      for (const part of ['', '/show.json', '/evidence.json', '/evidence.jsonl', '/evidence.csv', '/evidence.html']) {
        const reply = await fetch(`${stack.endpoint}/console/changes/${id}${part}`);
        corpus.push({ name: `console /changes/${id}${part}`, text: await reply.text() });
      }
    });
    for (const args of [['changes'], ['stats'], ['policy', 'status'], ['local', 'status'], ['fault', 'list']]) await cli([...args, '--json']);
    await cli(['changes']);
    for (const page of ['/', '/dashboard', '/policy', '/outbox', `/outbox?to=${encodeURIComponent(APPROVER)}`]) {
      corpus.push({ name: `console ${page}`, text: await (await fetch(`${stack.endpoint}/console${page}`)).text() });
    }
    // moto's data.json dumps every backend (IAM, Secrets Manager, …): only its SES part is what was sent.
    const motoData = (await (await fetch(`http://127.0.0.1:${stack.port + 1}/moto-api/data.json`)).json()) as { ses?: unknown; sesv2?: unknown };
    corpus.push({ name: 'SES mail (moto data.json .ses/.sesv2)', text: JSON.stringify({ ses: motoData.ses ?? null, sesv2: motoData.sesv2 ?? null }) });
    expect(JSON.stringify(motoData.ses ?? '')).toContain(changeIds[1]!);
    corpus.push({ name: 'Slack sink', text: await (await fetch(`${stack.endpoint}/_sinks/slack`)).text() });
    const stateFiles = filesUnder(stack.stateDir).filter((file) => !file.endsWith('policy.key'));
    for (const file of stateFiles) corpus.push({ name: path.relative(stack.stateDir, file), text: readFileSync(file, 'latin1') });
    corpus.push(...apiReplies, ...cliOutputs);

    // ---- the scan
    const leaks: string[] = [];
    for (const needle of needles) {
      for (const spelling of spellings(needle.value)) {
        for (const doc of corpus) if (doc.text.includes(spelling)) leaks.push(`${needle.kind} (${needle.value.slice(0, 6)}…) in ${doc.name}`);
      }
    }
    // Any access key secret at all, known or not (e.g. a key made and deleted by a rolled-back rotation).
    const pattern = /SecretAccessKey\\?["']?\s*[:=]\s*\\?["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])/g;
    for (const doc of corpus) for (const match of doc.text.matchAll(pattern)) leaks.push(`something shaped like a SecretAccessKey (${match[1]!.slice(0, 6)}…) in ${doc.name}`);
    // The scan can see: the non-secret identifiers (access key ids, change ids) are there.
    const keyIdsSeen = corpus.some((doc) => /AKIA[A-Z0-9]{16}/.test(doc.text));
    const bytes = corpus.reduce((sum, doc) => sum + Buffer.byteLength(doc.text), 0);
    const logBytes = corpus.filter((d) => /\.log$/.test(d.name)).reduce((sum, doc) => sum + Buffer.byteLength(doc.text), 0);
    const spellingCount = needles.reduce((sum, n) => sum + spellings(n.value).length, 0);
    console.log(
      `[secret-scan] ${needles.length} needles (${createdSecretKeys.length} seeded keys, ${needles.filter((n) => n.kind.startsWith('rotated')).length} rotated keys, ${tokens.length} task tokens, 1 link key, secret values; ${spellingCount} spellings: raw, JSON, URL, form, base64)` +
        ` over ${corpus.length} texts, ${bytes} bytes: ${stateFiles.length} state-dir files (${logBytes} bytes of logs), ${cliOutputs.length} CLI outputs, ${allIds.length} changes' evidence/plans, notifications, console pages; ${leaks.length} leaks`,
    );
    expect(keyIdsSeen).toBe(true);
    expect(corpus.some((doc) => doc.text.includes(changeIds[0]!))).toBe(true);
    expect(leaks, leaks.join('\n')).toEqual([]);
  });
});
