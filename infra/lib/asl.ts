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
  return { definition, text, placeholders };
}

/** The `Resource` of every Task state, nested Map / Parallel states included. */
export function taskResources(asl: unknown): string[] {
  const out: string[] = [];
  const visitStates = (states: unknown): void => {
    if (!isObject(states)) return;
    for (const state of Object.values(states)) {
      if (!isObject(state)) continue;
      if (state['Type'] === 'Task' && typeof state['Resource'] === 'string') out.push(state['Resource']);
      for (const nested of [state['ItemProcessor'], state['Iterator']]) if (isObject(nested)) visitStates(nested['States']);
      if (Array.isArray(state['Branches'])) for (const branch of state['Branches']) if (isObject(branch)) visitStates(branch['States']);
    }
  };
  if (isObject(asl)) visitStates(asl['States']);
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
