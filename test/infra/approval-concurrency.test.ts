import { describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../infra/resources.js';
import { buildStack, resourcesOfType } from './support/stack.js';

const { json } = buildStack();

describe('reserved concurrency', () => {
  it('caps the public approval function (a flood on its URL cannot take the account pool); the others are uncapped', () => {
    const capped = FUNCTIONS.filter((f) => f.reservedConcurrency !== undefined).map((f) => [f.name, f.reservedConcurrency]);
    expect(capped).toEqual([['approval-api', 5]]);
    const rendered = resourcesOfType(json, 'AWS::Lambda::Function')
      .map(([, r]) => r.Properties ?? {})
      .filter((p) => p.ReservedConcurrentExecutions !== undefined)
      .map((p) => [p.FunctionName, p.ReservedConcurrentExecutions]);
    expect(rendered).toEqual([['nhigov-approval-api', 5]]);
  });
});
