import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { PROJECT_ROOT } from '../../../local/build.js';

/** Debian's chromium (CI installs the `chromium` package); never a downloaded browser. */
export const CHROMIUM = process.env.NHIGOV_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.join(PROJECT_ROOT, 'test', 'e2e', 'screenshots');

export interface Browser {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Saves a full-page screenshot as test/e2e/screenshots/NAME.png and returns its path. */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** Fails with one line when chromium is missing, so the cause is obvious in CI output. */
export function assertChromium(): void {
  if (!existsSync(CHROMIUM)) throw new Error(`chromium is not installed at ${CHROMIUM}: apt-get install chromium (the browser tests drive Debian's chromium)`);
}

/** Headless chromium with a fresh profile, no network chatter of its own. */
export async function launchBrowser(): Promise<Browser> {
  assertChromium();
  const profile = mkdtempSync(path.join(os.tmpdir(), 'nhigov-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    context,
    page,
    async screenshot(name) {
      const file = path.join(SCREENSHOTS, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Accessibility basics of the current page: what a reviewer would flag first. */
export interface A11yReport {
  readonly title: string;
  readonly mains: number;
  readonly h1s: number;
  readonly navLabels: string[];
  /** Visible form controls without a label. */
  readonly unlabelled: string[];
  /** Images (role=img) without a text alternative. */
  readonly unnamedImages: number;
  /** Text whose contrast against its background is below WCAG AA. */
  readonly lowContrast: string[];
}

/** What the in-page checks use. The project compiles without DOM types: the page's globals are reached through this. */
interface PageGlobals {
  readonly document: any;
  getComputedStyle(element: any): { color: string; backgroundColor: string; fontSize: string; fontWeight: string };
  readonly NodeFilter: { readonly SHOW_TEXT: number };
}

export async function a11yReport(page: Page): Promise<A11yReport> {
  return page.evaluate(() => {
    const { document, getComputedStyle, NodeFilter } = globalThis as unknown as PageGlobals;
    const parse = (c: string): [number, number, number, number] => {
      const m = /rgba?\(([^)]+)\)/.exec(c);
      if (!m?.[1]) return [0, 0, 0, 0];
      const p = m[1].split(',').map((x) => Number.parseFloat(x));
      return [p[0] ?? 0, p[1] ?? 0, p[2] ?? 0, p[3] ?? 1];
    };
    const luminance = ([r, g, b]: number[]) => {
      const lin = (v: number) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * lin(r ?? 0) + 0.7152 * lin(g ?? 0) + 0.0722 * lin(b ?? 0);
    };
    const background = (el: any): number[] => {
      for (let e = el; e; e = e.parentElement) {
        const bg = parse(getComputedStyle(e).backgroundColor);
        if (bg[3] > 0.5) return bg;
      }
      return [255, 255, 255, 1];
    };
    const lowContrast: string[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const el = node.parentElement;
      if (!el || !node.textContent?.trim() || el.closest('svg, details:not([open]) > :not(summary), .sr-only')) continue;
      const rect = el.getBoundingClientRect();
      if (rect.width === 0 || rect.height === 0) continue;
      const style = getComputedStyle(el);
      const fg = luminance(parse(style.color));
      const bg = luminance(background(el));
      const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
      const size = Number.parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) lowContrast.push(`${node.textContent.trim().slice(0, 40)} (${ratio.toFixed(2)})`);
    }
    const controls = [...document.querySelectorAll('input:not([type=hidden]), select, textarea')] as Array<{ labels?: { length: number }; getAttribute(name: string): string | null; outerHTML: string }>;
    return {
      title: document.title,
      mains: document.querySelectorAll('main').length,
      h1s: document.querySelectorAll('h1').length,
      navLabels: [...document.querySelectorAll('nav')].map((n: { getAttribute(name: string): string | null }) => n.getAttribute('aria-label') ?? ''),
      unlabelled: controls.filter((c) => (c.labels?.length ?? 0) === 0 && !c.getAttribute('aria-label')).map((c) => c.outerHTML.slice(0, 80)),
      unnamedImages: [...document.querySelectorAll('[role=img]')].filter((i: { getAttribute(name: string): string | null }) => !i.getAttribute('aria-label') && !i.getAttribute('aria-labelledby')).length,
      lowContrast,
    };
  });
}

/** What has the keyboard focus: `button:VALUE` for a button, else the element's id. */
export async function focusedControl(page: Page): Promise<string> {
  return page.evaluate(() => {
    const active = (globalThis as unknown as PageGlobals).document.activeElement as { tagName?: string; value?: string; id?: string } | null;
    return active?.tagName === 'BUTTON' ? `button:${active.value ?? ''}` : (active?.id ?? '');
  });
}
