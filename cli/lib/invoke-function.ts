import { InvokeCommand } from '@aws-sdk/client-lambda';
import type { z } from 'zod';
import { formatIssues } from '../../lambdas/domain/events.js';
import type { StackContext } from './context.js';
import { OperationFailed } from './io.js';

/**
 * Invokes one of the stack's functions with `payload` and parses its answer with `schema`: for
 * the work only that function's role may do (sign a checkpoint, mail attestation links). `label`
 * names it in errors ("the checkpoint function failed: ...").
 */
export async function invokeStackFunction<T>(ctx: Pick<StackContext, 'clients'>, functionName: string, label: string, payload: Record<string, unknown>, schema: z.ZodType<T>): Promise<T> {
  const out = await ctx.clients.lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(payload)) }));
  const text = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
  if (out.FunctionError) throw new OperationFailed(`the ${label} function failed: ${text.slice(0, 500)}`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new OperationFailed(`the ${label} function answered something that is not JSON: ${text.slice(0, 200)}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new OperationFailed(`the ${label} function answered unexpectedly: ${formatIssues(parsed.error)}`);
  return parsed.data;
}
