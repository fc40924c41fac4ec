#!/usr/bin/env node
// Verifies an nhi-governor evidence export on its own: no dependency, nothing of the project.
//
//   nhigov evidence CHANGE_ID --format jsonl > trail.jsonl
//   node scripts/verify-evidence.mjs trail.jsonl          (or: ... | node scripts/verify-evidence.mjs -)
//
// Each line is one evidence event. For every change in the file, in the order of the lines:
//   seq is 1, 2, 3, ... (a deleted, inserted or reordered event breaks it),
//   prevHash is the hash of the event before it (64 zeros for the first one),
//   hash = sha256(prevHash + RFC 8785 canonical JSON of the event without `hash`), hex.
// Prints `OK <changeId> <n> event(s) head <seq>:<hash>` per change and exits 0, or prints
// `BROKEN <changeId> at seq <n>: <reason>` for the first event that does not hold and exits 1.
// Exit 2: bad usage or an unreadable file.
//
// Options:
//   --require-complete      the change has ended: its chain must hold a COMPLETED event
//   --expect-head SEQ:HASH  a head you kept earlier must still be in the chain (at that seq);
//                           a chain rewritten from scratch does not hold it
import { createHash } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const GENESIS_HASH = '0'.repeat(64);

/** What may follow a change's COMPLETED event (later workflows append these to a finished change). */
export const POST_COMPLETION_TYPES = ['COMPLETED', 'ESCALATED', 'FINDINGS_ROUTED', 'FINALIZED', 'ROLLED_BACK', 'ROLLBACK_FAILED', 'SEQ_ABANDONED'];

/**
 * RFC 8785 (JSON Canonicalization Scheme) of a JSON value: object members sorted by their
 * names' UTF-16 code units, no whitespace, strings and numbers serialized as ECMAScript's
 * JSON.stringify does (RFC 8785 adopts that serialization for both).
 */
export function canonicalJson(value) {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('NaN and Infinity are not JSON');
      return JSON.stringify(value);
    case 'string':
      if (!isWellFormed(value)) throw new TypeError('a string holds a lone surrogate');
      return JSON.stringify(value);
    case 'object':
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
      return `{${Object.keys(value)
        .sort()
        .map((key) => {
          if (!isWellFormed(key)) throw new TypeError('a member name holds a lone surrogate');
          return `${JSON.stringify(key)}:${canonicalJson(value[key])}`;
        })
        .join(',')}}`;
    default:
      throw new TypeError(`${typeof value} is not JSON`);
  }
}

function isWellFormed(text) {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}

/** The hash an event should carry: sha256(prevHash + canonical JSON of the event without hash). */
export function eventHash(event) {
  const { hash: _hash, ...rest } = event;
  return createHash('sha256').update(String(event.prevHash) + canonicalJson(rest), 'utf8').digest('hex');
}

/**
 * Parses a JSON Lines export into events (blank lines skipped). A line that is not a JSON object
 * is returned as { line, error } so the chain reports where it broke.
 */
export function parseJsonl(text) {
  const entries = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    if (raw.trim() === '') return;
    let event;
    try {
      event = JSON.parse(raw);
    } catch (error) {
      entries.push({ line: index + 1, error: `line ${index + 1} is not JSON (${error.message})` });
      return;
    }
    if (event === null || typeof event !== 'object' || Array.isArray(event)) entries.push({ line: index + 1, error: `line ${index + 1} is not a JSON object` });
    else entries.push({ line: index + 1, event });
  });
  return entries;
}

/**
 * Verifies every change's chain, each in the order its events appear. Returns one result per
 * change: { changeId, ok, events, head, complete, brokenAt?, reason? }.
 */
export function verifyEntries(entries, options = {}) {
  const chains = new Map();
  let current = '(unknown change)';
  for (const entry of entries) {
    // A line that is not an event breaks the chain it sits in: the one of the line before it.
    const changeId = entry.event && typeof entry.event.changeId === 'string' ? entry.event.changeId : current;
    current = changeId;
    if (!chains.has(changeId)) chains.set(changeId, []);
    chains.get(changeId).push(entry);
  }
  return [...chains].map(([changeId, chain]) => verifyChain(changeId, chain, options));
}

function verifyChain(changeId, chain, options) {
  let prevHash = GENESIS_HASH;
  let completedSeen = false;
  let head = null;
  const broken = (seq, reason) => ({ changeId, ok: false, events: chain.length, head, complete: completedSeen, brokenAt: seq, reason });
  for (let index = 0; index < chain.length; index += 1) {
    const expectedSeq = index + 1;
    const { event, error } = chain[index];
    if (error) return broken(expectedSeq, error);
    if (event.seq !== expectedSeq) {
      return broken(
        expectedSeq,
        typeof event.seq === 'number' && event.seq > expectedSeq
          ? `event ${expectedSeq} is missing: seq ${event.seq} follows ${expectedSeq - 1} (event deleted, or events reordered)`
          : `seq ${String(event.seq)} found where ${expectedSeq} was expected (event inserted, reordered or renumbered)`,
      );
    }
    if (event.prevHash !== prevHash) {
      return broken(expectedSeq, expectedSeq === 1 ? 'prevHash of the first event is not 64 zeros' : `prevHash does not match the hash of event ${expectedSeq - 1}`);
    }
    let recomputed;
    try {
      recomputed = eventHash(event);
    } catch (cause) {
      return broken(expectedSeq, `the event cannot be canonicalized (${cause.message})`);
    }
    if (recomputed !== event.hash) return broken(expectedSeq, 'hash does not match the event content (a field was edited, added or removed)');
    if (completedSeen && !POST_COMPLETION_TYPES.includes(event.type)) return broken(expectedSeq, `${String(event.type)} recorded after the change COMPLETED (inserted)`);
    if (event.type === 'COMPLETED') completedSeen = true;
    prevHash = event.hash;
    head = { seq: event.seq, hash: event.hash };
  }
  if (options.requireComplete && !completedSeen) {
    return broken(chain.length + 1, `the chain stops at seq ${chain.length} without COMPLETED: the change has not ended, or its last event(s) were deleted`);
  }
  if (options.expectHead) {
    const kept = chain.find((entry) => entry.event.seq === options.expectHead.seq);
    if (!kept || kept.event.hash !== options.expectHead.hash) {
      return broken(options.expectHead.seq, `the head kept earlier (${options.expectHead.seq}:${options.expectHead.hash.slice(0, 16)}…) is not in this chain: it was cut short or rewritten`);
    }
  }
  return { changeId, ok: true, events: chain.length, head, complete: completedSeen };
}

function usage(message) {
  process.stderr.write(`verify-evidence: ${message}\nusage: node scripts/verify-evidence.mjs [FILE | -] [--require-complete] [--expect-head SEQ:HASH]\n`);
  return 2;
}

export function main(argv) {
  let file = '-';
  let fileGiven = false;
  const options = {};
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      process.stdout.write('usage: node scripts/verify-evidence.mjs [FILE | -] [--require-complete] [--expect-head SEQ:HASH]\nreads a `nhigov evidence CHANGE_ID --format jsonl` export (stdin without FILE) and recomputes its hash chain\n');
      return 0;
    }
    if (arg === '--require-complete') options.requireComplete = true;
    else if (arg === '--expect-head') {
      const match = /^(\d+):([0-9a-f]{64})$/.exec(argv[i + 1] ?? '');
      if (!match) return usage('--expect-head takes SEQ:HASH (a seq and a 64-digit hex hash)');
      options.expectHead = { seq: Number(match[1]), hash: match[2] };
      i += 1;
    } else if (arg.startsWith('-') && arg !== '-') return usage(`unknown option ${arg}`);
    else if (fileGiven) return usage('give one file (or - for stdin)');
    else {
      file = arg;
      fileGiven = true;
    }
  }
  let text;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    return usage(`cannot read ${file === '-' ? 'stdin' : file}: ${error.code ?? error.message}`);
  }
  const results = verifyEntries(parseJsonl(text), options);
  if (results.length === 0) {
    process.stdout.write('BROKEN (no events): the export holds no event\n');
    return 1;
  }
  for (const r of results) {
    process.stdout.write(
      r.ok
        ? `OK ${r.changeId} ${r.events} event(s) head ${r.head.seq}:${r.head.hash}${r.complete ? '' : ' (no COMPLETED: in flight, or its last events were cut off)'}\n`
        : `BROKEN ${r.changeId} at seq ${r.brokenAt}: ${r.reason}\n`,
    );
  }
  return results.every((r) => r.ok) ? 0 : 1;
}

function isMain() {
  try {
    return Boolean(process.argv[1]) && realpathSync(fileURLToPath(import.meta.url)) === realpathSync(process.argv[1]);
  } catch {
    return false;
  }
}

if (isMain()) process.exitCode = main(process.argv.slice(2));
