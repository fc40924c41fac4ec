/** The ARN of execution `executionName` of a state machine (Step Functions derives it this way). */
export function executionArnFor(stateMachineArn: string, executionName: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${executionName}`;
}
