import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateStateMachineCommand, DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { freePortPair, runCli, startTestStack, type TestStack } from '../support/local-stack.js';
import { isAlive } from '../../cli/lib/connection.js';
import { setTimeout as sleep } from 'node:timers/promises';

describe('the embedded local stack', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack?.stop());

  it('runs 50 Step Functions executions in a row (the moto#10077 backport)', async () => {
    const machine = await stack.clients.sfn.send(
      new CreateStateMachineCommand({
        name: 'fifty-in-a-row',
        definition: JSON.stringify({ StartAt: 'Echo', States: { Echo: { Type: 'Pass', Parameters: { 'n.$': '$.n' }, End: true } } }),
        roleArn: 'arn:aws:iam::123456789012:role/test',
      }),
    );
    const outcomes: string[] = [];
    for (let n = 0; n < 50; n += 1) {
      const run = await stack.clients.sfn.send(new StartExecutionCommand({ stateMachineArn: machine.stateMachineArn, name: `run-${n}`, input: JSON.stringify({ n }) }));
      let status = 'RUNNING';
      for (let i = 0; i < 100 && status === 'RUNNING'; i += 1) {
        const described = await stack.clients.sfn.send(new DescribeExecutionCommand({ executionArn: run.executionArn }));
        status = described.status ?? 'UNKNOWN';
        if (status === 'SUCCEEDED') expect(JSON.parse(described.output ?? '{}')).toEqual({ n });
        if (status === 'RUNNING') await sleep(20);
      }
      outcomes.push(status);
    }
    expect(outcomes.filter((s) => s === 'SUCCEEDED')).toHaveLength(50);
  });

  it('reports status, counts AWS calls by service and action, and answers Lambda Invoke for unknown functions like AWS', async () => {
    const status = stack.json<{ up: boolean; counts: { changes: number } }>(['local', 'status']);
    expect(status.up).toBe(true);
    const stats = stack.json<{ aws: Record<string, Record<string, number>>; lambda: Record<string, number> }>(['stats']);
    expect(stats.aws.sfn?.StartExecution).toBeGreaterThanOrEqual(50);
    const lambda = new LambdaClient({ endpoint: stack.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    await expect(lambda.send(new InvokeCommand({ FunctionName: 'no-such-function', Payload: Buffer.from('{}') }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('refuses a port already in use with a clear error instead of hanging', async () => {
    const port = await freePortPair();
    const blocker = net.createServer().listen(port, '127.0.0.1');
    await new Promise((resolve) => blocker.once('listening', resolve));
    try {
      const env = { ...stack.env, NHIGOV_PORT: String(port), NHIGOV_STATE_DIR: mkdtempSync(path.join(os.tmpdir(), 'nhigov-busy-')) };
      const started = Date.now();
      const result = runCli(env, ['local', 'up', '--detach', '--no-seed']);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(`port ${port} is already in use`);
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      blocker.close();
    }
  });

  it('runs a second stack side by side on other ports, and `local down` stops exactly its pids', async () => {
    const second = await startTestStack();
    try {
      expect(second.port).not.toBe(stack.port);
      const status = second.json<{ up: boolean; pids: { server: number; moto: number } }>(['local', 'status']);
      expect(status.up).toBe(true);
      const pids = status.pids;
      second.stop();
      expect(isAlive(pids.server)).toBe(false);
      expect(isAlive(pids.moto)).toBe(false);
      expect(stack.json<{ up: boolean }>(['local', 'status']).up).toBe(true);
    } finally {
      second.stop();
    }
  });

  it('says how to install moto when it is missing', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nhigov-nomoto-'));
    const fakePython = path.join(dir, 'python3');
    writeFileSync(fakePython, '#!/bin/sh\necho "ModuleNotFoundError: No module named moto" >&2\nexit 1\n');
    chmodSync(fakePython, 0o755);
    const result = runCli({ ...stack.env, NHIGOV_PYTHON: fakePython, NHIGOV_STATE_DIR: dir }, ['local', 'up', '--detach', '--no-seed']);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain("pip install 'moto[server]'");
  });
});
