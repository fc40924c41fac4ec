import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const LINE_CHARS = 400;
const GATEWAY_PROBLEMS = 25;
const MOTO_PROBLEMS = 12;
const GATEWAY_TAIL = 15;

/**
 * What a failing file prints of its stack's logs (at most ~60 lines): gateway.log's ERROR/WARN
 * lines and its own plain lines (event poller, CloudTrail), moto.log's Traceback/Exception lines
 * (repeats counted once), and the tail of gateway.log.
 */
export function stackDiagnostics(stateDir: string, port: number): string {
  const gateway = logLines(path.join(stateDir, 'gateway.log'));
  const moto = logLines(path.join(stateDir, 'moto.log'));
  const problems = gateway.filter((line) => /"level":"(ERROR|WARN)"/.test(line) || !line.startsWith('{'));
  const motoProblems = counted(moto.filter((line) => /Traceback|Exception|Error:/.test(line)));
  return [
    `[test stack :${port}] a test of this file failed; ${stateDir} (NHIGOV_TEST_KEEP_STATE=1 keeps it)`,
    `-- gateway.log: ERROR/WARN and gateway lines (last ${Math.min(GATEWAY_PROBLEMS, problems.length)} of ${problems.length})`,
    ...problems.slice(-GATEWAY_PROBLEMS),
    `-- moto.log: Traceback/Exception lines (last ${Math.min(MOTO_PROBLEMS, motoProblems.length)} of ${motoProblems.length} distinct)`,
    ...motoProblems.slice(-MOTO_PROBLEMS),
    `-- gateway.log: last ${Math.min(GATEWAY_TAIL, gateway.length)} of ${gateway.length} lines`,
    ...gateway.slice(-GATEWAY_TAIL),
    '',
  ]
    .map((line) => (line.length > LINE_CHARS ? `${line.slice(0, LINE_CHARS)}…` : line))
    .join('\n');
}

function logLines(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim().length > 0);
}

/** Distinct lines in order of their last appearance, a repeat noted as (×N). */
function counted(lines: string[]): string[] {
  const counts = new Map<string, number>();
  for (const line of lines) {
    const seen = counts.get(line) ?? 0;
    counts.delete(line);
    counts.set(line, seen + 1);
  }
  return [...counts].map(([line, n]) => (n > 1 ? `(×${n}) ${line}` : line));
}
