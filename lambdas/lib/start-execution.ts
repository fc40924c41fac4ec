import { StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { executionArnFor } from '../domain/execution-arn.js';

export interface StartedExecution {
  readonly executionArn: string;
  /** An execution of that name already existed: this start was the same request again. */
  readonly duplicate: boolean;
}

/**
 * Starts execution `name` of a state machine. Names are deterministic ids (change id, rollback
 * id), so ExecutionAlreadyExists means the request was already made: its ARN is returned, marked
 * duplicate, instead of an error.
 */
export async function startExecutionOnce(sfn: SFNClient, request: { readonly stateMachineArn: string; readonly name: string; readonly input: string }): Promise<StartedExecution> {
  try {
    const out = await sfn.send(new StartExecutionCommand(request));
    return { executionArn: out.executionArn ?? executionArnFor(request.stateMachineArn, request.name), duplicate: false };
  } catch (error) {
    if (error instanceof Error && error.name === 'ExecutionAlreadyExists') return { executionArn: executionArnFor(request.stateMachineArn, request.name), duplicate: true };
    throw error;
  }
}
