import { InvokeCommand } from '@aws-sdk/client-lambda';
import { z } from 'zod';
import { formatIssues } from '../../lambdas/domain/events.js';
import type { StackContext } from './context.js';
import { OperationFailed } from './io.js';

const resultSchema = z.object({
  number: z.number(),
  hash: z.string(),
  reason: z.string(),
  heads: z.number(),
  policy: z.object({ version: z.string(), signedAt: z.string() }).nullable(),
});
export type CheckpointInvocation = z.infer<typeof resultSchema>;

/**
 * Asks the stack's checkpoint function for a checkpoint now (the operator holds no signing right:
 * only that function's role may sign). `scheduled`: the heads of the changes in flight, as the
 * hourly schedule does; `policy-activated`: raise the policy high-water mark.
 */
export async function invokeCheckpoint(ctx: Pick<StackContext, 'clients' | 'outputs'>, reason: 'scheduled' | 'policy-activated'): Promise<CheckpointInvocation> {
  const out = await ctx.clients.lambda.send(new InvokeCommand({ FunctionName: ctx.outputs.checkpoints.functionName, Payload: Buffer.from(JSON.stringify({ reason })) }));
  const text = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
  if (out.FunctionError) throw new OperationFailed(`the checkpoint function failed: ${text.slice(0, 500)}`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new OperationFailed(`the checkpoint function answered something that is not JSON: ${text.slice(0, 200)}`);
  }
  const parsed = resultSchema.safeParse(raw);
  if (!parsed.success) throw new OperationFailed(`the checkpoint function answered unexpectedly: ${formatIssues(parsed.error)}`);
  return parsed.data;
}
