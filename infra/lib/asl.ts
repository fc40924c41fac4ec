/**
 * Reading the ASL files the CDK stack and the local stack share: the `${Name}` placeholders they
 * use, and the task resources they call (so a new service integration cannot reach AWS without
 * its grant). Pure: no CDK here.
 */
import { readFileSync } from 'node:fs';
import type { StateMachineDefinition } from '../resources.js';
import { StackDefinitionError } from './errors.js';
import { fromRoot } from './paths.js';

const PLACEHOLDER = /\$\{([A-Za-z0-9_]+)\}/g;

/** Lambda task resources the stack grants for (lambda:InvokeFunction on every substituted function). */
const LAMBDA_INTEGRATION = /^arn:aws[\w-]*:states:::lambda:invoke(\.waitForTaskToken)?$/;

export interface LoadedAsl {
  readonly definition: StateMachineDefinition;
  /** The file's text, unchanged: what `DefinitionString` carries. */
  readonly text: string;
  /** Names of the `${Name}` placeholders, sorted. */
  readonly placeholders: readonly string[];
  /** Names of the Map states in DISTRIBUTED mode: each starts child executions of this state machine. */
  readonly distributedMaps: readonly string[];
}

export function loadAsl(definition: StateMachineDefinition): LoadedAsl {
  const text = readFileSync(fromRoot(definition.file), 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new StackDefinitionError(`${definition.file}: not JSON (${(error as Error).message})`);
  }
  const placeholders = [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1] as string))].sort();
  const declared = Object.keys(definition.functionSubstitutions);
  const missing = placeholders.filter((name) => !declared.includes(name));
  const unused = declared.filter((name) => !placeholders.includes(name));
  if (missing.length) throw new StackDefinitionError(`${definition.file}: \${${missing.join('}, ${')}} not in functionSubstitutions of "${definition.id}" (infra/resources.ts)`);
  if (unused.length) throw new StackDefinitionError(`state machine "${definition.id}": functionSubstitutions ${unused.join(', ')} are not used in ${definition.file}`);
  for (const resource of taskResources(parsed)) {
    const placeholder = /^\$\{([A-Za-z0-9_]+)\}$/.exec(resource)?.[1];
    if (placeholder !== undefined || LAMBDA_INTEGRATION.test(resource)) continue;
    throw new StackDefinitionError(
      `${definition.file}: task resource "${resource}" is a service integration the stack grants nothing for; add its permissions in infra/lib/workflows.ts`,
    );
  }
  return { definition, text, placeholders, distributedMaps: distributedMaps(parsed) };
}

/** The `Resource` of every Task state, nested Map / Parallel states included. */
export function taskResources(asl: unknown): string[] {
  const out: string[] = [];
  visitStates(asl, (_, state) => {
    if (state['Type'] === 'Task' && typeof state['Resource'] === 'string') out.push(state['Resource']);
  });
  return out;
}

/** The names of the Map states whose ItemProcessor runs in DISTRIBUTED mode, nested ones included. */
export function distributedMaps(asl: unknown): string[] {
  const out: string[] = [];
  visitStates(asl, (name, state) => {
    const processor = state['ItemProcessor'];
    const config = isObject(processor) ? processor['ProcessorConfig'] : undefined;
    if (state['Type'] === 'Map' && isObject(config) && config['Mode'] === 'DISTRIBUTED') out.push(name);
  });
  return out;
}

/** Calls `visit` on every state of the ASL, those inside Map and Parallel states included. */
function visitStates(asl: unknown, visit: (name: string, state: Record<string, unknown>) => void): void {
  const walk = (states: unknown): void => {
    if (!isObject(states)) return;
    for (const [name, state] of Object.entries(states)) {
      if (!isObject(state)) continue;
      visit(name, state);
      for (const nested of [state['ItemProcessor'], state['Iterator']]) if (isObject(nested)) walk(nested['States']);
      if (Array.isArray(state['Branches'])) for (const branch of state['Branches']) if (isObject(branch)) walk(branch['States']);
    }
  };
  if (isObject(asl)) walk(asl['States']);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
