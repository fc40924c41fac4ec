import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { replaceAtomically } from '../../../local/build.js';

describe('replaceAtomically (handler bundles other stacks are loading)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'nhigov-build-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('replaces the file by a rename (a new inode, never a truncated one), leaves no temporary file, and keeps an unchanged file as it is', () => {
    const file = path.join(dir, 'ingest.mjs');
    writeFileSync(file, 'export const handler = 1;');
    const before = statSync(file).ino;
    replaceAtomically(file, Buffer.from('export const handler = 2;'));
    expect(readFileSync(file, 'utf8')).toBe('export const handler = 2;');
    const replaced = statSync(file).ino;
    expect(replaced).not.toBe(before);
    replaceAtomically(file, Buffer.from('export const handler = 2;'));
    expect(statSync(file).ino).toBe(replaced);
    replaceAtomically(path.join(dir, 'plan.mjs'), Buffer.from('export const handler = 3;'));
    expect(readdirSync(dir).sort()).toEqual(['ingest.mjs', 'plan.mjs']);
  });
});
