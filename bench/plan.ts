import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { ACTION_CATALOG } from '../lambdas/connectors/registry.js';
import type { GovernanceEvent } from '../lambdas/domain/events.js';
import { planChange } from '../lambdas/domain/plan.js';
import { policyVersion, type GovernancePolicy } from '../lambdas/domain/policy.js';
import { DEFAULT_POLICY } from '../test/fixtures/policies.js';
import { generateEstate, NOW } from '../test/fixtures/snapshot-generator.js';

/** The goal: a 10,000-NHI snapshot planned in under a second, median of 5. */
export const PLAN_BENCH_NHIS = 10_000;
export const PLAN_BENCH_RUNS = 5;
export const PLAN_BENCH_GOAL_MS = 1_000;

export interface PlanBenchFigure {
  readonly scenario: string;
  readonly nhis: number;
  readonly actions: number;
  readonly findings: number;
  readonly runsMs: readonly number[];
  readonly medianMs: number;
  readonly withinGoal: boolean;
}

/** The contract's example baseline, applied to every governed NHI: the reconcile judges each one against it. */
const BASELINE_POLICY: GovernancePolicy = {
  ...DEFAULT_POLICY,
  baselines: [{ name: 'service-users', allowManagedPolicies: ['arn:aws:iam::aws:policy/ReadOnlyAccess'], forbidActions: ['*', 'iam:*'], maxActiveAccessKeys: 1, consoleAccess: false }],
};

const SCENARIOS: ReadonlyArray<{ name: string; event: GovernanceEvent; policy?: GovernancePolicy }> = [
  { name: 'Reconcile Requested (scope all)', event: { id: 'bench-reconcile', detailType: 'Reconcile Requested', source: 'nhigov', detail: { scope: 'all' } } },
  { name: 'Reconcile Requested (scope all) with a baseline', event: { id: 'bench-baseline', detailType: 'Reconcile Requested', source: 'nhigov', detail: { scope: 'all' } }, policy: BASELINE_POLICY },
  {
    name: 'Employee Terminated (one owner of 200)',
    event: { id: 'bench-term', detailType: 'Employee Terminated', source: 'hr.system', detail: { employeeId: 'e-7', email: 'owner7@example.com', managerEmail: 'owner8@example.com' } },
  },
];

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Plans each scenario PLAN_BENCH_RUNS times over one generated estate; prints and returns the figures. */
export function runPlanBench(print: (line: string) => void = (line) => console.log(line)): PlanBenchFigure[] {
  const snapshot = generateEstate(PLAN_BENCH_NHIS);
  const figures = SCENARIOS.map(({ name, event, policy = DEFAULT_POLICY }) => {
    const version = policyVersion(policy);
    const runsMs: number[] = [];
    let last: ReturnType<typeof planChange> | undefined;
    // Run 0 warms the JIT up and is not counted.
    for (let run = -1; run < PLAN_BENCH_RUNS; run += 1) {
      // A fresh copy each run: the snapshot's lookup index is cached per object and must be rebuilt.
      const copy = { ...snapshot };
      const started = performance.now();
      last = planChange({ changeId: `chg-bench-${run + 1}`, policy, policyVersion: version, event, estates: [{ snapshot: copy }], now: NOW, catalog: ACTION_CATALOG });
      if (run >= 0) runsMs.push(performance.now() - started);
    }
    const medianMs = median(runsMs);
    return { scenario: name, nhis: PLAN_BENCH_NHIS, actions: last?.actions.length ?? 0, findings: last?.findings.length ?? 0, runsMs, medianMs, withinGoal: medianMs < PLAN_BENCH_GOAL_MS };
  });
  print(`plan time, ${PLAN_BENCH_NHIS} NHIs, median of ${PLAN_BENCH_RUNS} after 1 warm-up (goal < ${PLAN_BENCH_GOAL_MS} ms):`);
  for (const f of figures) {
    print(`  ${f.scenario}: ${f.medianMs.toFixed(1)} ms median [${f.runsMs.map((ms) => ms.toFixed(0)).join(', ')}] -> ${f.actions} actions, ${f.findings} findings ${f.withinGoal ? 'OK' : 'OVER GOAL'}`);
  }
  return figures;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) runPlanBench();
