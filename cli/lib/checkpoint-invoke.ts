import { z } from 'zod';
import type { StackContext } from './context.js';
import { invokeStackFunction } from './invoke-function.js';

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
  return invokeStackFunction(ctx, ctx.outputs.checkpoints.functionName, 'checkpoint', { reason }, resultSchema);
}
