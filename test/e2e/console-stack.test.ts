import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../local/build.js';
import { DEMO_ESTATE, DEMO_MEMBER_ACCOUNT } from '../../local/seed.js';
import { startTestStack, type TestStack } from '../support/local-stack.js';
import { eventFile, keyStatuses, terminationEvent } from '../support/estate.js';
import { a11yReport, assertChromium, launchBrowser, type Browser } from './support/browser.js';

const BIN = path.join(PROJECT_ROOT, 'cli', 'bin', 'nhigov.mjs');
/** The name `nhigov local up` registers its CloudFormation stack under. */
const STACK_NAME = 'NhiGovernor';

interface ConsoleDocument {
  readonly url: string;
  readonly stackName: string;
  readonly region: string;
  readonly account: string;
  readonly mode: string;
}

/**
 * `nhigov console` in STACK MODE, in a real browser: the CLI finds the stack only through
 * NHIGOV_STACK and the standard SDK configuration (no state dir, an empty working folder), and
 * serves its console: the header names the stack, the Identities page shows the seeded estate
 * with keys and findings, a prod termination is approved through the console and reaches
 * VERIFIED. Requests naming another host (DNS rebinding) are refused.
 */
describe('nhigov console for a stack (browser)', () => {
  let stack: TestStack;
  let browser: Browser;
  let server: ChildProcess | undefined;
  let folder: string;
  let port: number;
  let doc: ConsoleDocument;
  let changeId: string;

  beforeAll(async () => {
    assertChromium();
    stack = await startTestStack({ seed: true });
    // alice@example.com's NHIs serve production: her termination waits for an approver.
    const event = terminationEvent('alice@example.com', { managerEmail: 'bob@example.com' });
    changeId = stack.json<{ changeId: string }>(['event', eventFile(stack.stateDir, event)]).changeId;

    folder = mkdtempSync(path.join(os.tmpdir(), 'nhigov-console-'));
    port = await freePort();
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_ENDPOINT_URL: stack.endpoint,
      NHIGOV_STACK: STACK_NAME,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const child = spawn(process.execPath, [BIN, 'console', '--port', String(port), '--json'], { cwd: folder, env, stdio: ['ignore', 'pipe', 'pipe'] });
    server = child;
    doc = await firstDocument(child);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server?.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    stack?.stop();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  const expectAccessible = async (titlePrefix: string) => {
    const report = await a11yReport(browser.page);
    expect(report.title).toMatch(new RegExp(`^${titlePrefix}.* · nhi-governor console$`));
    expect(report.mains).toBe(1);
    expect(report.h1s).toBe(1);
    expect(report.unlabelled).toEqual([]);
    expect(report.lowContrast).toEqual([]);
  };

  it('prints where it serves which stack', () => {
    expect(doc).toEqual({ url: `http://127.0.0.1:${port}/console/`, stackName: STACK_NAME, region: 'us-east-1', account: expect.stringMatching(/^\d{12}$/), mode: 'stack' });
  });

  it('opens on the changes list, which names the stack it looks at', async () => {
    const { page } = browser;
    const reply = await page.goto(`http://127.0.0.1:${port}/`);
    expect(reply?.status()).toBe(200);
    expect(page.url()).toBe(doc.url);
    await expect(page.locator('h1').innerText()).resolves.toBe('Changes');
    await expect(page.locator('#stack-name').innerText()).resolves.toBe(STACK_NAME);
    await expect(page.locator('#stack-mode').innerText()).resolves.toBe('deployed');
    await expect(page.locator('#stack-region').innerText()).resolves.toBe('us-east-1');
    await expect(page.locator('#stack-account').innerText()).resolves.toBe(doc.account);
    const nav = page.getByRole('navigation', { name: 'Console sections' });
    await expect(nav.getByRole('link').allInnerTexts()).resolves.toEqual(['Changes', 'Identities', 'Attestation', 'Dashboard', 'Policy']);
    await page.locator(`tr[data-change-id="${changeId}"]`).waitFor({ timeout: 30_000 });
    await expectAccessible('Changes');
    await browser.screenshot('stack-changes');
  });

  it('lists the governed NHIs with their account, keys, open findings and changes', async () => {
    const { page } = browser;
    expect(stack.json<{ status: string }>(['wait', changeId, '--timeout', '90']).status).toBe('AWAITING_APPROVAL');
    // The changes list reloads itself: leave it first, so its reload cannot interrupt this navigation.
    await page.goto('about:blank');
    await page.goto(`${doc.url}identities`);
    await expect(page.locator('h1').innerText()).resolves.toBe('Identities');
    const governed = DEMO_ESTATE.filter((n) => n.governed !== false);
    await expect(page.locator('#identities tbody tr').count()).resolves.toBeGreaterThanOrEqual(governed.length);
    // Each NHI in its own account: the demo estate names a user svc-reporting in the stack's account and in a member account.
    for (const nhi of governed) await expect(page.locator(`tr[data-nhi="${nhi.name}"][data-account="${nhi.account ?? doc.account}"]`).count()).resolves.toBe(1);
    await expect(page.locator('tr[data-nhi="svc-untracked"]').count()).resolves.toBe(0);
    await expect(page.locator(`tr[data-nhi="svc-reporting"][data-account="${DEMO_MEMBER_ACCOUNT}"] li.key`).count()).resolves.toBe(1);
    const reporting = page.locator(`tr[data-nhi="svc-reporting"][data-account="${doc.account}"]`);
    await expect(reporting.locator('li.key').count()).resolves.toBe(2);
    await expect(reporting.locator('li.key').first().innerText()).resolves.toMatch(/^AKIA\w+ Active 0 d old, last used never$/);
    await expect(reporting.innerText()).resolves.toContain(doc.account);
    await expect(page.locator('tr[data-nhi="nhigov-demo/svc-invoices-key"]').innerText()).resolves.toContain('last rotated');
    const unowned = page.locator('tr[data-nhi="svc-legacy-ftp"]');
    await expect(unowned.getAttribute('data-findings')).resolves.not.toBe('0');
    await expect(unowned.locator('code.reason').first().innerText()).resolves.toBe('OWNER_UNKNOWN');
    // alice's termination, waiting for approval, names her NHIs in its plan.
    await expect(page.locator(`tr[data-nhi="svc-payments"] li`, { hasText: changeId }).innerText()).resolves.toContain('AWAITING_APPROVAL');
    await expectAccessible('Identities');
    await browser.screenshot('stack-identities');
  });

  it('approves the prod termination through the console and sees it VERIFIED', async () => {
    const { page } = browser;
    await page.goto(`${doc.url}identities`);
    await page.locator(`tr[data-nhi="svc-payments"] a[href="/console/changes/${changeId}"]`).click();
    expect(page.url()).toBe(`${doc.url}changes/${changeId}`);
    await expect(page.locator('#approval-state').innerText()).resolves.toContain('PENDING');
    await expect(page.locator('#stack-name').innerText()).resolves.toBe(STACK_NAME);
    await expectAccessible('Change');
    await browser.screenshot('stack-change-pending');

    await page.selectOption('#approver', 'approver@example.com');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(/\?flash=/);
    await expect(page.locator('[role=status].banner').first().innerText()).resolves.toContain('Approved as approver@example.com');
    await page.locator('#change-status[data-status="VERIFIED"]').waitFor({ timeout: 90_000 });
    await expect(page.locator('#approval-state').innerText()).resolves.toContain('APPROVED');
    await expect(page.locator('#chain-badge').getAttribute('data-chain')).resolves.toBe('verified');
    expect(Object.values(await keyStatuses(stack.direct, 'svc-payments'))).toEqual(['Inactive']);
    await browser.screenshot('stack-change-approved');
  });

  it('shows an attestation campaign: who answered, who did not, and the change it started', async () => {
    const { page } = browser;
    await page.goto(`${doc.url}attestation`);
    await expect(page.locator('#attestation-empty').innerText()).resolves.toContain('nhigov attest start');
    // dave's NHIs in both governed accounts: the member account's named by ARN.
    const memberUser = `arn:aws:iam::${DEMO_MEMBER_ACCOUNT}:user/svc-reporting`;
    const memberRole = `arn:aws:iam::${DEMO_MEMBER_ACCOUNT}:role/role-analytics`;
    const started = stack.json<{ campaignId: string; owners: number; nhis: number; accounts: string[] }>(['attest', 'start', '--owner', 'dave@example.com']);
    expect(started).toMatchObject({ owners: 1, nhis: 4 });
    expect(started.accounts).toContain(DEMO_MEMBER_ACCOUNT);
    const link = await ownerLink(stack, 'dave@example.com');
    // The owner answers on their own page (the link from their mail), one NHI at a time.
    await page.goto(link.href);
    await expect(page.locator('h1').innerText()).resolves.toBe('Confirm your non-human identities');
    await expect(page.locator(`tr[data-nhi="${memberRole}"]`).getAttribute('data-account')).resolves.toBe(DEMO_MEMBER_ACCOUNT);
    const answers: Array<[string, 'Still mine and still needed' | 'Not mine / not needed', string]> = [
      ['svc-reporting', 'Still mine and still needed', 'Recorded: still yours'],
      ['svc-etl-dev', 'Not mine / not needed', 'Recorded: not yours'],
      [memberUser, 'Still mine and still needed', 'Recorded: still yours'],
      [memberRole, 'Not mine / not needed', 'Recorded: not yours'],
    ];
    for (const [nhi, button, recorded] of answers) {
      await page.goto(link.href);
      await page.locator(`tr[data-nhi="${nhi}"]`).getByRole('button', { name: button }).click();
      await expect(page.locator('.banner.ok').innerText()).resolves.toContain(`${nhi}: ${recorded}`);
    }
    await page.goto(link.href);
    await expect(page.getByRole('button').count()).resolves.toBe(0);
    await browser.screenshot('stack-attestation-owner');
    // Someone else's copy of the link (another signature) writes nothing.
    expect(await answerAttestation(link, 'svc-etl-dev', 'keep', 'B'.repeat(43))).toBe(403);
    // One follow-up change per account: each acts in its own.
    const followUps = stack.json<{ results: Array<{ followUps: string[] }> }>(['attest', 'sweep', started.campaignId]).results[0]?.followUps ?? [];
    expect(followUps).toHaveLength(2);
    const [followUp] = followUps;
    if (!followUp) throw new Error('the sweep started no follow-up change');

    await page.goto(`${doc.url}attestation`);
    await expect(page.locator('h1').innerText()).resolves.toBe(`Attestation ${started.campaignId}`);
    await expect(page.locator('tr[data-owner="dave@example.com"]').getAttribute('data-answered')).resolves.toBe('all');
    await expect(page.locator('tr[data-nhi="svc-reporting"]').getAttribute('data-answer')).resolves.toBe('KEEP');
    await expect(page.locator('tr[data-nhi="svc-etl-dev"]').getAttribute('data-outcome')).resolves.toBe('DISABLE_PLANNED');
    await expect(page.locator(`tr[data-nhi="${memberRole}"]`).getAttribute('data-outcome')).resolves.toBe('DISABLE_PLANNED');
    await expect(page.locator(`tr[data-nhi="${memberRole}"]`).getAttribute('data-account')).resolves.toBe(DEMO_MEMBER_ACCOUNT);
    await page.locator(`#attestation-changes a[href="/console/changes/${followUp}"]`).click();
    expect(page.url()).toBe(`${doc.url}changes/${followUp}`);
    await page.locator('#change-status[data-status="VERIFIED"]').waitFor({ timeout: 90_000 });
    await page.goto(`${doc.url}attestation`);
    await expectAccessible('Attestation');
    await browser.screenshot('stack-attestation');
  });

  it('refuses requests naming another host: no page, no decision', async () => {
    const foreign = `evil.example:${port}`;
    const page = await rawRequest(port, { host: foreign, path: '/console/identities' });
    expect(page.status).toBe(421);
    expect(page.body).not.toContain('svc-');
    const decision = await rawRequest(port, {
      host: foreign,
      path: `/console/changes/${changeId}/decision`,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: `http://${foreign}`, 'sec-fetch-site': 'same-origin' },
      body: 'decision=reject&approver=secops%40example.com',
    });
    expect(decision.status).toBe(421);
    expect(decision.body).not.toContain(changeId);
    // Its own names still work.
    expect((await rawRequest(port, { host: `localhost:${port}`, path: '/console/policy' })).status).toBe(200);
  });
});

/** The owner's attestation link from the mail moto's SES accepted. */
async function ownerLink(stack: TestStack, owner: string): Promise<URL> {
  const data = (await (await fetch(`http://127.0.0.1:${stack.port + 1}/moto-api/data.json`)).json()) as { ses?: { Message?: Array<{ body: string; destinations: { ToAddresses?: string[] } }> } };
  const mail = (data.ses?.Message ?? []).find((m) => m.destinations.ToAddresses?.[0] === owner && m.body.includes('/attestations/'));
  const url = /https?:\/\/[^\s"<>]+\/attestations\/[^\s"<>]+/.exec((mail?.body ?? '').replace(/&amp;/g, '&'))?.[0];
  if (!url) throw new Error(`no attestation link mailed to ${owner}`);
  return new URL(url);
}

/** POSTs one answer with the owner's link fields (a forged signature when given); the HTTP status. */
async function answerAttestation(link: URL, nhi: string, answer: 'keep' | 'release', sig?: string): Promise<number> {
  const form = new URLSearchParams({ ...Object.fromEntries(['approver', 'exp', 'via', 'sig'].map((k) => [k, link.searchParams.get(k) ?? ''])), nhi, answer, ...(sig ? { sig } : {}) });
  const reply = await fetch(`${link.origin}${link.pathname}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: form.toString() });
  return reply.status;
}

/** The one JSON document `nhigov console --json` prints once it listens. */
function firstDocument(child: ChildProcess): Promise<ConsoleDocument> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`nhigov console printed nothing within 60 s: ${stderr}`)), 60_000);
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      try {
        const parsed: unknown = JSON.parse(stdout);
        if (isConsoleDocument(parsed)) {
          clearTimeout(timer);
          resolve(parsed);
        }
      } catch {
        // not a whole document yet
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`nhigov console exited ${code}: ${stderr}`));
    });
  });
}

function isConsoleDocument(value: unknown): value is ConsoleDocument {
  if (typeof value !== 'object' || value === null) return false;
  return ['url', 'stackName', 'region', 'account', 'mode'].every((key) => typeof Reflect.get(value, key) === 'string');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const free = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(free));
    });
  });
}

/** A request with the Host header we choose (fetch and the browser set their own). */
function rawRequest(port: number, options: { host: string; path: string; method?: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, path: options.path, method: options.method ?? 'GET', headers: { ...options.headers, host: options.host } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    request.on('error', reject);
    request.end(options.body);
  });
}
