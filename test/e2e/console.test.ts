import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../support/local-stack.js';
import { createGovernedUser, eventFile, keyStatuses, ownerEmail, terminationEvent } from '../support/estate.js';
import { a11yReport, assertChromium, focusedControl, launchBrowser, type Browser } from './support/browser.js';

interface Termination {
  readonly owner: string;
  readonly userName: string;
  readonly keyIds: readonly string[];
  readonly changeId: string;
}

/**
 * The local console in a real browser (Debian's chromium through playwright-core): the changes
 * list, a change reaching VERIFIED, a prod change approved from the console through the
 * signed-link API, the evidence chain badge, keyboard access to Approve / Reject, and the
 * dashboard, policy and outbox pages. Screenshots land in test/e2e/screenshots/ for review.
 * Both changes start up front so their workflows run while the browser looks at the first.
 */
describe('local console (browser)', () => {
  let stack: TestStack;
  let browser: Browser;
  let consoleUrl: string;
  let dev: Termination;
  let prod: Termination;

  const startTermination = async (env: 'prod' | 'dev'): Promise<Termination> => {
    const owner = ownerEmail(env);
    const user = await createGovernedUser(stack.direct, { owner, env, keys: 1 });
    const { changeId } = stack.json<{ changeId: string }>(['event', eventFile(stack.stateDir, terminationEvent(owner))]);
    return { owner, userName: user.userName, keyIds: user.keyIds, changeId };
  };

  beforeAll(async () => {
    assertChromium();
    // Another stack starting on this machine can take the free port pair before moto binds it: try once more.
    stack = await startTestStack().catch((error: Error) => {
      if (/in use|moto exited/.test(error.message)) return startTestStack();
      throw error;
    });
    consoleUrl = stack.outputs.consoleUrl;
    browser = await launchBrowser();
    dev = await startTermination('dev');
    prod = await startTermination('prod');
  });
  afterAll(async () => {
    await browser?.close();
    stack?.stop();
  });

  /** The change page reloads itself while the workflow works: wait for the status it shows. */
  const waitForStatus = async (status: string, timeout = 60_000) => {
    await browser.page.locator(`#change-status[data-status="${status}"]`).waitFor({ timeout });
  };

  const expectAccessible = async (titlePrefix: string) => {
    const report = await a11yReport(browser.page);
    expect(report.title).toMatch(new RegExp(`^${titlePrefix}.* · nhi-governor console$`));
    expect(report.mains).toBe(1);
    expect(report.h1s).toBe(1);
    expect(report.navLabels).toContain('Console sections');
    expect(report.unlabelled).toEqual([]);
    expect(report.unnamedImages).toBe(0);
    expect(report.lowContrast).toEqual([]);
  };

  it('opens on the changes list', async () => {
    const { page } = browser;
    const reply = await page.goto(consoleUrl);
    expect(reply?.status()).toBe(200);
    await expect(page.locator('h1').innerText()).resolves.toBe('Changes');
    await expect(page.getByRole('navigation', { name: 'Console sections' }).getByRole('link', { name: 'Changes' }).getAttribute('aria-current')).resolves.toBe('page');
    // The gateway adds its Outbox to the console's own pages; the header names the local stack.
    await expect(page.getByRole('navigation', { name: 'Console sections' }).getByRole('link').allInnerTexts()).resolves.toEqual(['Changes', 'Identities', 'Attestation', 'Dashboard', 'Policy', 'Outbox']);
    await expect(page.locator('#stack-mode').innerText()).resolves.toBe('local');
    await expect(page.locator('#stack-name').innerText()).resolves.toBe(stack.outputs.stackName);
    // The owners come from the stored plan; the list reloads itself while the changes are being planned.
    for (const change of [dev, prod]) {
      await page.locator(`tr[data-change-id="${change.changeId}"] td`, { hasText: change.owner }).waitFor({ timeout: 30_000 });
    }
    await expectAccessible('Changes');
    await browser.screenshot('changes');
  });

  it('shows a non-prod termination reach VERIFIED, with the evidence chain verified and its exports', async () => {
    const { page } = browser;
    await page.goto(consoleUrl);
    await page.locator(`tr[data-change-id="${dev.changeId}"] a`).click();
    expect(page.url()).toBe(`${consoleUrl}changes/${dev.changeId}`);
    await waitForStatus('VERIFIED');
    await expect(page.locator('#chain-badge').getAttribute('data-chain')).resolves.toBe('verified');
    await expect(page.locator('#approval-state').innerText()).resolves.toContain('Not required');
    const keyAction = page.locator('article.action', { hasText: 'iam.deactivateAccessKey' });
    await expect(keyAction.locator('h3').innerText()).resolves.toContain(dev.keyIds[0]);
    await expect(keyAction.locator('td', { hasText: '"Inactive"' }).last().innerText()).resolves.toContain('matches');
    await expect(page.locator('#timeline > li').last().getAttribute('data-type')).resolves.toBe('COMPLETED');
    expect(Object.values(await keyStatuses(stack.direct, dev.userName))).toEqual(['Inactive']);
    await expectAccessible('Change');
    await browser.screenshot('change-verified');

    const json = await page.request.get(`${consoleUrl}changes/${dev.changeId}/evidence.json`);
    expect(json.status()).toBe(200);
    expect(await json.json()).toMatchObject({ changeId: dev.changeId, chain: { ok: true, complete: true } });
    await page.getByRole('link', { name: 'HTML report' }).first().click();
    await expect(page.title()).resolves.toBe(`Evidence: ${dev.changeId}`);
    await expect(page.locator('.verdict').innerText()).resolves.toContain('Chain verified');
    await browser.screenshot('evidence-html');
  });

  it('finds the pending prod change, follows the emailed link, refuses its owner, approves it as approver@example.com from the keyboard, and sees it VERIFIED', async () => {
    const { page } = browser;
    expect(stack.json<{ status: string }>(['wait', prod.changeId, '--timeout', '60']).status).toBe('AWAITING_APPROVAL');

    await page.goto(`${consoleUrl}?status=AWAITING_APPROVAL`);
    const row = page.locator(`tr[data-change-id="${prod.changeId}"]`);
    await expect(row.locator('td').first().innerText()).resolves.toBe('AWAITING_APPROVAL');
    await browser.screenshot('changes-awaiting-approval');
    await row.locator('a').click();
    await expect(page.locator('#approval-state').innerText()).resolves.toContain('PENDING');
    const plan = page.locator('article.action', { hasText: 'iam.deactivateAccessKey' });
    await expect(plan.innerText()).resolves.toContain('prod, reversible');
    await expect(plan.locator('td.changed del').first().innerText()).resolves.toContain('Active');
    await expect(plan.locator('td.changed ins').first().innerText()).resolves.toContain('Inactive');
    await expectAccessible('Change');
    await browser.screenshot('change-pending');

    // The approver's email in the outbox, and its link: GET shows the plan and decides nothing.
    await page.goto(`${consoleUrl}outbox?to=approver%40example.com`);
    const email = page.locator('article.email', { hasText: prod.changeId });
    await expect(email.locator('h3').innerText()).resolves.toContain('Approval needed');
    // Filtered to this approver: only their own direct message carries a link for them (the channel message decides nothing).
    await expect(page.locator('article.slack', { hasText: prod.changeId }).count()).resolves.toBe(1);
    await expectAccessible('Outbox');
    await browser.screenshot('outbox');
    await email.getByRole('link', { name: 'Review and decide' }).click();
    await expect(page.locator('h1').innerText()).resolves.toBe('Approve change');
    await expect(page.locator('body').innerText()).resolves.toContain(prod.changeId);
    await page.goBack();

    // The owner of the NHI may not decide: the approval API refuses, and the request stays open.
    await email.getByRole('link', { name: prod.changeId }).click();
    await page.selectOption('#approver', prod.owner);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(/\?flash=/);
    await expect(page.locator('[role=alert].banner').first().innerText()).resolves.toMatch(/Refused by the approval API \(HTTP 403\) (APPROVER_NOT_AUTHORIZED|SELF_APPROVAL_FORBIDDEN)/);
    await expect(page.locator('#approval-state').innerText()).resolves.toContain('PENDING');
    await expect(page.locator('#timeline > li[data-type="APPROVAL_REFUSED"]').count()).resolves.toBe(1);

    // Keyboard only, from the top of a freshly loaded page: Tab reaches Approve, then Reject.
    await page.goto(`${consoleUrl}changes/${prod.changeId}`);
    await expect(page.inputValue('#approver')).resolves.toBe('approver@example.com');
    let reached = '';
    for (let presses = 0; presses < 60 && reached !== 'button:approve'; presses += 1) {
      await page.keyboard.press('Tab');
      reached = await focusedControl(page);
    }
    expect(reached).toBe('button:approve');
    await page.keyboard.press('Tab');
    await expect(focusedControl(page)).resolves.toBe('button:reject');
    await page.keyboard.press('Shift+Tab');
    await expect(focusedControl(page)).resolves.toBe('button:approve');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\?flash=/);
    await expect(page.locator('[role=status].banner').first().innerText()).resolves.toContain('Approved as approver@example.com');

    await waitForStatus('VERIFIED');
    await expect(page.locator('#approval-state').innerText()).resolves.toContain('APPROVED');
    await expect(page.locator('#chain-badge').getAttribute('data-chain')).resolves.toBe('verified');
    await expect(page.locator('#timeline > li[data-type="APPROVED"]').innerText()).resolves.toContain('by approver@example.com');
    expect(Object.values(await keyStatuses(stack.direct, prod.userName))).toEqual(['Inactive']);
    await browser.screenshot('change-approved');
  });

  it('draws the dashboard, and shows the policy', async () => {
    const { page } = browser;
    await page.goto(`${consoleUrl}dashboard`);
    for (const chart of ['chart-status', 'chart-latency', 'chart-approval', 'chart-reasons']) {
      await expect(page.locator(`#${chart} svg[role=img]`).count()).resolves.toBe(1);
    }
    await expect(page.locator('#chart-latency svg').getAttribute('aria-label')).resolves.toMatch(/Event → VERIFIED latency.*: 2 changes in total/);
    await expect(page.locator('#kpi-changes').innerText()).resolves.toBe('2');
    await expectAccessible('Dashboard');
    await browser.screenshot('dashboard');

    await page.goto(`${consoleUrl}policy`);
    await expect(page.locator('#policy-valid').innerText()).resolves.toContain('Signature valid');
    await expect(page.locator('#policy-activated-by').innerText()).resolves.toBe('local-stack@nhigov.local');
    await expect(page.locator('#runtimes').innerText()).resolves.toContain('current');
    await expectAccessible('Policy');
    await browser.screenshot('policy');
  });
});
