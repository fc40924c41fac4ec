import { CreateStackCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { operatorOutputValues, type OperatorOutputs } from '../infra/outputs.js';
import type { AwsClients } from './aws-clients.js';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Registers the local stack in the emulator's CloudFormation under the name a deployed stack
 * has, with the same Outputs, so the CLI finds it exactly as it finds a deployed one. moto 5.2.1
 * cannot be the runtime itself (it ignores DefinitionSubstitutions, hides state machines from its
 * ASL interpreter, needs Docker for Lambda): the stack only describes what local/deploy.ts created.
 */
export async function registerLocalStack(clients: Pick<AwsClients, 'cloudformation'>, stackName: string, outputs: OperatorOutputs): Promise<void> {
  const template = {
    Description: 'nhi-governor local stack: describes the resources the local deploy created (Outputs only)',
    // A stack needs one resource; this one creates nothing.
    Resources: { Anchor: { Type: 'AWS::CloudFormation::WaitConditionHandle' } },
    Outputs: Object.fromEntries(Object.entries(operatorOutputValues(outputs)).map(([name, value]) => [name, { Value: value }])),
  };
  await clients.cloudformation.send(new CreateStackCommand({ StackName: stackName, TemplateBody: JSON.stringify(template) }));
  for (let i = 0; i < 100; i += 1) {
    const stack = (await clients.cloudformation.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0];
    if (stack?.StackStatus === 'CREATE_COMPLETE') return;
    if (stack?.StackStatus && !stack.StackStatus.endsWith('_IN_PROGRESS')) throw new Error(`registering stack ${stackName} in the emulator ended ${stack.StackStatus}: ${stack.StackStatusReason ?? ''}`);
    await sleep(50);
  }
  throw new Error(`registering stack ${stackName} in the emulator did not complete`);
}
