/**
 * One Lambda per entry of FUNCTIONS, bundled by NodejsFunction with the project's esbuild (never
 * Docker), each with its own role holding exactly its declared table access, the connector
 * policies of its declared connector access, its own log group and X-Ray tracing.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { CONNECTOR_ROLE_PATH } from '../../lambdas/domain/accounts.js';
import { METRICS_NAMESPACE } from '../../lambdas/handlers/policy-metrics.js';
import { EVIDENCE_WRITER_FUNCTION, physicalName, type FunctionDefinition } from '../resources.js';
import type { MemberAccess } from './member-access.js';
import type { ConnectorPolicy } from './connector-policy.js';
import { StackDefinitionError } from './errors.js';
import { fromRoot, PROJECT_ROOT } from './paths.js';
import { acknowledgeTableKeyGrants, type GovernanceTables } from './tables.js';

/** Powertools settings every handler shares (Logger service name, Metrics namespace). */
export const POWERTOOLS_SERVICE_NAME = 'nhi-governor';
export { METRICS_NAMESPACE };

/**
 * ESM bundles load CommonJS dependencies through `require`: give them one. The same banner as
 * local/build.ts, so the bundle Lambda runs is the one the local gateway runs.
 */
const REQUIRE_BANNER = "import { createRequire as __nhigovCreateRequire } from 'node:module'; const require = __nhigovCreateRequire(import.meta.url);";

export interface HandlerFunctionsProps {
  /** Prefix of the function names. */
  readonly prefix: string;
  /** The functions to create. */
  readonly functions: readonly FunctionDefinition[];
  /** The tables their `tables` declarations refer to. */
  readonly tables: GovernanceTables;
  /** Its read policy goes to every function with `connector: 'read'`, both to `connector: 'readWrite'`. */
  readonly connectorPolicy: ConnectorPolicy;
  /** What the connector roles may assume in member accounts (same sides as the connector policy). */
  readonly memberAccess: MemberAccess;
  /** Retention of each function's log group. */
  readonly logRetention: logs.RetentionDays;
  /** Environment every function gets (table names, policy key, state machine ARNs). */
  readonly environment: Readonly<Record<string, string>>;
  /** Memory of every function. @default 512 */
  readonly memorySize?: number;
}

export interface HandlerFunction {
  readonly definition: FunctionDefinition;
  readonly fn: NodejsFunction;
  readonly role: iam.Role;
}

export class HandlerFunctions extends Construct {
  private readonly byName = new Map<string, HandlerFunction>();

  constructor(scope: Construct, id: string, props: HandlerFunctionsProps) {
    super(scope, id);
    for (const definition of props.functions) {
      if (this.byName.has(definition.name)) throw new StackDefinitionError(`FUNCTIONS lists "${definition.name}" twice`);
      this.byName.set(definition.name, this.create(definition, props));
    }
  }

  /** The function of a FUNCTIONS name; throws when the definitions have no such function. */
  get(name: string): HandlerFunction {
    const found = this.byName.get(name);
    if (!found) throw new StackDefinitionError(`no function "${name}" in FUNCTIONS (infra/resources.ts)`);
    return found;
  }

  find(name: string): HandlerFunction | undefined {
    return this.byName.get(name);
  }

  all(): readonly HandlerFunction[] {
    return [...this.byName.values()];
  }

  private create(definition: FunctionDefinition, props: HandlerFunctionsProps): HandlerFunction {
    const id = pascalCase(definition.name);
    const functionName = physicalName(props.prefix, definition.name);
    const logGroup = new logs.LogGroup(this, `${id}Logs`, { retention: props.logRetention });
    // An explicit role instead of the default one: no AWSLambdaBasicExecutionRole (which may write
    // to any log group), only this function's own log group.
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      // Member roles (infra/lib/member-stack.ts) trust the hub's connector roles by this path.
      ...(definition.connector === 'none' ? {} : { path: CONNECTOR_ROLE_PATH[definition.connector] }),
      description: `nhi-governor ${definition.name}: ${definition.description}`,
    });
    logGroup.grantWrite(role);
    const fn = new NodejsFunction(this, id, {
      functionName,
      description: definition.description,
      entry: fromRoot(definition.entry),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: fromRoot('package-lock.json'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: Duration.seconds(definition.timeoutSeconds),
      ...(definition.reservedConcurrency !== undefined ? { reservedConcurrentExecutions: definition.reservedConcurrency } : {}),
      role,
      logGroup,
      tracing: lambda.Tracing.ACTIVE,
      environment: {
        ...props.environment,
        POWERTOOLS_SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        NHIGOV_RUNTIME_NAME: `lambda:${functionName}`,
      },
      bundling: {
        format: OutputFormat.ESM,
        externalModules: ['@aws-sdk/*'],
        sourceMap: false,
        minify: true,
        keepNames: true,
        banner: REQUIRE_BANNER,
        forceDockerBundling: false,
        logLevel: LogLevel.ERROR,
      },
    });
    if (definition.name !== EVIDENCE_WRITER_FUNCTION && definition.tables.some(({ id, access }) => id === 'evidence' && access === 'append')) {
      throw new StackDefinitionError(`function "${definition.name}" appends to evidence itself: only "${EVIDENCE_WRITER_FUNCTION}" writes it; hand drafts over with the evidenceAppend capability`);
    }
    for (const { id: tableId, access } of definition.tables) {
      props.tables.grant(role, tableId, access, `function "${definition.name}"`);
    }
    if (definition.tables.some(({ access }) => access !== 'read')) acknowledgeTableKeyGrants(role);
    props.connectorPolicy.attachTo(role, definition.connector);
    props.memberAccess.attachTo(role, definition.connector);
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords do not support resource-level permissions.',
    });
    return { definition, fn, role };
  }
}

export function pascalCase(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => `${part.charAt(0).toUpperCase()}${part.slice(1)}`)
    .join('');
}
