import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { REASON_CODE_NAMES, REASON_CODES, type ReasonCodeInfo } from '../../../lambdas/domain/reasons.js';
import { IN_FLIGHT_STATUSES, TERMINAL_STATUSES } from '../../../lambdas/domain/status.js';

/**
 * The docs follow the code: every command, subcommand and long option the CLI's help lists at
 * the time this runs is documented in docs/cli.md (in its own section, or among the global
 * options), and every reason code of lambdas/domain/reasons.ts has its row, with the same
 * category, retryability and owner route, in the table of docs/statuses-and-reasons.md.
 */

const ROOT = path.resolve(import.meta.dirname, '../../..');
const run = promisify(execFile);
// No stack selected: help must not depend on one (and NHIGOV_STACK may be set in a shell).
const CHILD_ENV: NodeJS.ProcessEnv = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', NO_COLOR: '1' };
delete CHILD_ENV.NHIGOV_STACK;

/**
 * Every help text of the CLI from one process: it loads the CLI exactly as cli/bin/nhigov.mjs does
 * (tsx, then main(argv)) and calls main(<path> --help) for the root and, walking the "Commands:"
 * lists, every command and subcommand (spawning the bin per command costs about a second each,
 * too slow for a unit test). The bin's own `--help` is compared with this process's root help.
 */
const PROBE = String.raw`
import { register } from 'tsx/esm/api';
import { pathToFileURL } from 'node:url';
register();
const { main } = await import(pathToFileURL(${JSON.stringify(path.join(ROOT, 'cli/main.ts'))}).href);
const write = process.stdout.write.bind(process.stdout);
function subcommands(text) {
  const names = [];
  let section = '';
  for (const line of text.split('\n')) {
    const heading = /^([A-Z][A-Za-z ]*):$/.exec(line);
    if (heading) { section = heading[1]; continue; }
    const name = section === 'Commands' ? /^ {2}([a-z][\w-]*)(?=\s|$)/.exec(line)?.[1] : undefined;
    if (name && name !== 'help') names.push(name);
  }
  return names;
}
const out = {};
const queue = [[]];
while (queue.length) {
  const words = queue.shift();
  let text = '';
  process.stdout.write = (chunk) => { text += String(chunk); return true; };
  let code;
  try {
    code = await main(['node', 'nhigov', ...words, '--help']);
  } finally {
    process.stdout.write = write;
  }
  out[words.join(' ')] = { words, code, text };
  if (words.length < 3) queue.push(...subcommands(text).map((name) => [...words, name]));
}
write(JSON.stringify(out));
`;

type HelpTexts = Record<string, { words: string[]; code: number; text: string }>;

async function helpTexts(): Promise<HelpTexts> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', PROBE], { cwd: ROOT, env: CHILD_ENV, maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout) as HelpTexts;
}

interface ParsedHelp {
  readonly commands: string[];
  readonly options: string[];
}

/** Commander's help: the names under "Commands:" (not `help`) and the long options under "Options:". */
function parseHelp(text: string): ParsedHelp {
  const commands: string[] = [];
  const options: string[] = [];
  let section = '';
  for (const line of text.split('\n')) {
    const heading = /^([A-Z][A-Za-z ]*):$/.exec(line);
    if (heading) {
      section = heading[1]!;
      continue;
    }
    if (section === 'Commands') {
      const name = /^ {2}([a-z][\w-]*)(?=\s|$)/.exec(line)?.[1];
      if (name && name !== 'help') commands.push(name);
    } else if (section.endsWith('Options')) {
      const option = /^ {2}(?:-\w, )?(--[A-Za-z0-9][\w-]*)/.exec(line)?.[1];
      if (option) options.push(option);
    }
  }
  return { commands, options };
}

interface Section {
  readonly heading: string;
  readonly text: string;
}

/** The section under the heading `nhigov <path>` (any level), up to the next heading of its level or above. */
function sectionOf(doc: string, pattern: RegExp): Section | null {
  const lines = doc.split('\n');
  let inFence = false;
  for (let i = 0; i < lines.length; i += 1) {
    if (/^```/.test(lines[i]!)) inFence = !inFence;
    if (inFence) continue;
    const match = /^(#{1,6}) (.*)$/.exec(lines[i]!);
    if (!match || !pattern.test(match[2]!.trim())) continue;
    const level = match[1]!.length;
    const body: string[] = [];
    let fence = false;
    for (let j = i + 1; j < lines.length; j += 1) {
      if (/^```/.test(lines[j]!)) fence = !fence;
      const next = fence ? null : /^(#{1,6}) /.exec(lines[j]!);
      if (next && next[1]!.length <= level) break;
      body.push(lines[j]!);
    }
    return { heading: match[2]!, text: body.join('\n') };
  }
  return null;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const commandHeading = (words: readonly string[]) => new RegExp(`^\`?nhigov ${words.map(escape).join(' ')}\`?$`);
const mentions = (text: string, option: string) => new RegExp(`${escape(option)}(?![\\w-])`).test(text);

const cliDoc = readFileSync(path.join(ROOT, 'docs/cli.md'), 'utf8');
const reasonsDoc = readFileSync(path.join(ROOT, 'docs/statuses-and-reasons.md'), 'utf8');

describe('docs/cli.md documents what the CLI lists', () => {
  let rootHelp = '';
  let helps: HelpTexts = {};
  let paths: string[][] = [];

  beforeAll(async () => {
    const [bin, texts] = await Promise.all([run(process.execPath, [path.join(ROOT, 'cli/bin/nhigov.mjs'), '--help'], { cwd: ROOT, env: CHILD_ENV }), helpTexts()]);
    rootHelp = bin.stdout;
    helps = texts;
    paths = Object.values(texts)
      .map((h) => h.words)
      .filter((words) => words.length > 0);
  }, 60_000);

  it('reads the same root help in one process as the bin prints', () => {
    expect(helps['']).toMatchObject({ code: 0, text: rootHelp });
  });

  it('lists commands and subcommands (sanity of the help parser)', () => {
    const names = paths.map((p) => p.join(' '));
    expect(names).toEqual(expect.arrayContaining(['local', 'local up', 'event', 'plan', 'changes', 'show', 'wait', 'approve', 'rollback', 'finalize', 'evidence', 'evidence verify', 'policy', 'policy sign', 'fault', 'fault add', 'stats', 'demo']));
    expect(parseHelp(rootHelp).options).toContain('--json');
    for (const words of paths) expect(helps[words.join(' ')]?.code, words.join(' ')).toBe(0);
  });

  it('has the global options section with every option of `nhigov --help`', () => {
    const global = sectionOf(cliDoc, /^Global options$/i);
    expect(global, 'a "Global options" heading').not.toBeNull();
    for (const option of parseHelp(rootHelp).options) expect(mentions(global!.text, option), `${option} in Global options`).toBe(true);
    // Stack mode is being added: documented before and after it lands.
    expect(mentions(global!.text, '--stack')).toBe(true);
  });

  it('has a section per command and subcommand, naming each of its long options', () => {
    const global = sectionOf(cliDoc, /^Global options$/i)?.text ?? '';
    const problems: string[] = [];
    for (const words of paths) {
      const name = `nhigov ${words.join(' ')}`;
      const section = sectionOf(cliDoc, commandHeading(words));
      if (!section) {
        problems.push(`no heading "${name}"`);
        continue;
      }
      for (const option of parseHelp(helps[words.join(' ')]!.text).options) {
        if (!mentions(section.text, option) && !mentions(global, option)) problems.push(`${name}: ${option} is not documented`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('documents the console command and stack mode (landing now)', () => {
    expect(sectionOf(cliDoc, commandHeading(['console']))?.text ?? '').toMatch(/--port/);
    expect(cliDoc).toContain('NHIGOV_STACK');
    for (const variable of ['NHIGOV_PORT', 'NHIGOV_STATE_DIR', 'AWS_ENDPOINT_URL', 'AWS_REGION', 'NHIGOV_LOCAL_LAMBDA_CONCURRENCY']) expect(cliDoc).toContain(variable);
  });
});

describe('docs/statuses-and-reasons.md', () => {
  const table = sectionOf(reasonsDoc, /^Reason codes$/i);
  const rows = new Map(
    (table?.text ?? '')
      .split('\n')
      .filter((line) => /^\| `[A-Z_]+` \|/.test(line))
      .map((line) => {
        const cells = line.split('|').slice(1, -1).map((cell) => cell.trim());
        return [cells[0]!.replace(/`/g, ''), cells] as const;
      }),
  );
  const retryable = (value: ReasonCodeInfo['retryable']) => (value === true ? 'yes' : value === false ? 'no' : value === null ? 'n/a' : value === 'bounded' ? 'bounded' : 're-plan once');

  it('has the reason-code table with a row for every code of lambdas/domain/reasons.ts, and no other', () => {
    expect(table, 'a "Reason codes" heading').not.toBeNull();
    expect(REASON_CODE_NAMES.filter((code) => !rows.has(code))).toEqual([]);
    expect([...rows.keys()].filter((code) => !(code in REASON_CODES))).toEqual([]);
  });

  it('gives each code the category, retryability and owner route reasons.ts gives it', () => {
    for (const code of REASON_CODE_NAMES) {
      const info: ReasonCodeInfo = REASON_CODES[code];
      const cells = rows.get(code);
      expect(cells?.slice(1, 4), code).toEqual([info.category, retryable(info.retryable), info.route ?? 'none']);
    }
  });

  it('lists every change status, in flight and terminal', () => {
    for (const status of [...IN_FLIGHT_STATUSES, ...TERMINAL_STATUSES]) expect(reasonsDoc, status).toContain(`\`${status}\``);
  });
});

describe('docs/ stays inside the repository', () => {
  const docsDir = path.join(ROOT, 'docs');
  const pages = readdirSync(docsDir).filter((file) => file.endsWith('.md'));

  it('links only to files of the repository, and never to ../shared', () => {
    const problems: string[] = [];
    for (const page of pages) {
      const text = readFileSync(path.join(docsDir, page), 'utf8');
      if (/shared\//.test(text)) problems.push(`${page} mentions shared/`);
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^(https?:|mailto:)/.test(target!) || target!.startsWith('#')) continue;
        const file = path.resolve(docsDir, target!.split('#')[0]!);
        if (!file.startsWith(`${ROOT}${path.sep}`) || !existsSync(file)) problems.push(`${page} links to ${target}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
