/**
 * The state machines of STATE_MACHINES, from the same ASL files the local stack runs: inline
 * (`DefinitionBody.fromString`, so the template can be asserted), with `${Name}` resolved to
 * the stack's function ARNs, logging at ALL and X-Ray on.
 */
import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { physicalName, type StateMachineDefinition } from '../resources.js';
import { loadAsl } from './asl.js';
import { StackDefinitionError } from './errors.js';
import { pascalCase, type HandlerFunctions } from './functions.js';

export type StateMachineId = StateMachineDefinition['id'];

/**
 * The ARN of a state machine by its fixed name. Handlers that start executions need it while
 * the state machine needs their ARNs: building it from the name breaks that cycle.
 */
export function stateMachineArn(stack: Stack, prefix: string, id: StateMachineId): string {
  return stack.formatArn({ service: 'states', resource: 'stateMachine', resourceName: physicalName(prefix, id), arnFormat: ArnFormat.COLON_RESOURCE_NAME });
}

/** The environment variable a handler finds a state machine's ARN in: NHIGOV_CHANGE_STATE_MACHINE_ARN, ... */
export function stateMachineEnvName(id: StateMachineId): string {
  return `NHIGOV_${id.toUpperCase()}_STATE_MACHINE_ARN`;
}

export interface WorkflowsProps {
  /** Prefix of the state machine names. */
  readonly prefix: string;
  /** The state machines to create. */
  readonly stateMachines: readonly StateMachineDefinition[];
  /** The functions `functionSubstitutions` name. */
  readonly functions: HandlerFunctions;
  /** Retention of the execution log groups. */
  readonly logRetention: logs.RetentionDays;
}

export class Workflows extends Construct {
  private readonly byId = new Map<StateMachineId, sfn.StateMachine>();

  constructor(scope: Construct, id: string, props: WorkflowsProps) {
    super(scope, id);
    for (const definition of props.stateMachines) {
      if (this.byId.has(definition.id)) throw new StackDefinitionError(`STATE_MACHINES lists "${definition.id}" twice`);
      this.byId.set(definition.id, this.create(definition, props));
    }
  }

  get(id: StateMachineId): sfn.StateMachine {
    const found = this.byId.get(id);
    if (!found) throw new StackDefinitionError(`no state machine "${id}" in STATE_MACHINES (infra/resources.ts)`);
    return found;
  }

  find(id: StateMachineId): sfn.StateMachine | undefined {
    return this.byId.get(id);
  }

  all(): ReadonlyArray<{ readonly id: StateMachineId; readonly stateMachine: sfn.StateMachine }> {
    return [...this.byId.entries()].map(([id, stateMachine]) => ({ id, stateMachine }));
  }

  private create(definition: StateMachineDefinition, props: WorkflowsProps): sfn.StateMachine {
    const asl = loadAsl(definition);
    const substitutions: Record<string, string> = {};
    const invoked: string[] = [];
    for (const [placeholder, value] of Object.entries(definition.functionSubstitutions)) {
      // A FUNCTIONS name becomes that function's ARN; anything else is a literal (resources.ts).
      const target = props.functions.find(value);
      substitutions[placeholder] = target ? target.fn.functionArn : value;
      if (target) invoked.push(target.fn.functionArn);
    }
    const id = pascalCase(definition.id);
    const logGroup = new logs.LogGroup(this, `${id}Logs`, { retention: props.logRetention });
    const stateMachine = new sfn.StateMachine(this, id, {
      stateMachineName: physicalName(props.prefix, definition.id),
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(asl.text),
      definitionSubstitutions: substitutions,
      tracingEnabled: true,
      // ALL events, but without execution data: a callback task's parameters carry its task
      // token, which must never reach a log (docs/approval-api.md).
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    if (invoked.length) {
      // The unqualified ARNs the ASL names, nothing more (no `:*` versions or aliases).
      stateMachine.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [...new Set(invoked)] }));
    }
    if (asl.distributedMaps.length) grantDistributedMaps(stateMachine, props.prefix, definition.id);
    Validations.of(stateMachine).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Execution logging (logs:CreateLogDelivery and related) and X-Ray (xray:PutTraceSegments) do not support resource-level permissions.',
    });
    return stateMachine;
  }
}

/**
 * A Distributed Map runs its items as child executions of the state machine itself
 * (docs: "IAM policies for using Distributed Map states"): StartExecution on the state machine,
 * DescribeExecution and StopExecution on its executions. The ARNs are built from the fixed name,
 * as the role cannot name its own state machine's ARN without a cycle.
 */
function grantDistributedMaps(stateMachine: sfn.StateMachine, prefix: string, id: StateMachineId): void {
  const stack = Stack.of(stateMachine);
  const name = physicalName(prefix, id);
  stateMachine.addToRolePolicy(new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [stateMachineArn(stack, prefix, id)] }));
  // `NAME:*` as AWS's example and CDK's DistributedMap grant name them; a map run's child
  // executions are named `NAME/LABEL:ID`, hence `NAME/*`.
  const executions = [`${name}:*`, `${name}/*`];
  stateMachine.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['states:DescribeExecution', 'states:StopExecution'],
      resources: executions.map((resourceName) => stack.formatArn({ service: 'states', resource: 'execution', resourceName, arnFormat: ArnFormat.COLON_RESOURCE_NAME })),
    }),
  );
  for (const resourceName of executions) {
    Validations.of(stateMachine).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${resourceName}]`,
      reason: 'A Distributed Map describes and stops the child executions it starts, whose names are generated: the grant covers the executions of this one state machine.',
    });
  }
}
