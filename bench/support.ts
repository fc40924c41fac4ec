import { startTestStack, type TestStack } from '../test/support/local-stack.js';

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** Runs `body` against a fresh local stack and always stops it. */
export async function withStack<T>(body: (stack: TestStack) => Promise<T>): Promise<T> {
  const stack = await startTestStack();
  try {
    return await body(stack);
  } finally {
    stack.stop();
  }
}

export function printFigure(name: string, value: string): void {
  process.stdout.write(`${name.padEnd(58)} ${value}\n`);
}

/** The gateway's counters (`nhigov stats --json`): AWS calls by service and action, DynamoDB calls by table. */
export interface GatewayStats {
  readonly aws: Record<string, Record<string, number>>;
  readonly lambda: Record<string, number>;
  readonly dynamodbTables: Record<string, Record<string, number>>;
}

export async function resetGatewayStats(endpoint: string): Promise<void> {
  const reply = await fetch(`${endpoint}/_nhigov/stats`, { method: 'DELETE' });
  if (!reply.ok) throw new Error(`resetting gateway stats: ${reply.status}`);
}

export async function readGatewayStats(endpoint: string): Promise<GatewayStats> {
  const reply = await fetch(`${endpoint}/_nhigov/stats`);
  if (!reply.ok) throw new Error(`reading gateway stats: ${reply.status}`);
  return (await reply.json()) as GatewayStats;
}

/** DynamoDB calls per evidence event: on every table, and on the evidence table alone (the writer's puts and head reads, `record`'s polls). */
export function dynamoDbCallsPerEvent(stats: GatewayStats, evidenceTable: string, events: number): { readonly allTables: number; readonly evidenceTable: number } {
  const sum = (counts: Record<string, number> | undefined): number => Object.values(counts ?? {}).reduce((n, c) => n + c, 0);
  const per = (calls: number): number => calls / Math.max(1, events);
  return { allTables: per(sum(stats.aws['dynamodb'])), evidenceTable: per(sum(stats.dynamodbTables[evidenceTable])) };
}
