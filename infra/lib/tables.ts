/**
 * The DynamoDB tables of TABLES, and the only way a role gets access to them: `grant(role, id,
 * access)`, which renders exactly the actions of that access mode and refuses anything that could
 * delete or overwrite items of an append-only table (evidence, plans).
 */
import { Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { physicalName, RUNTIME_RECORD_PARTITION, type TableAccess, type TableDefinition, type TableId } from '../resources.js';
import { StackDefinitionError } from './errors.js';

export type { TableAccess };

const READ_ACTIONS = ['dynamodb:BatchGetItem', 'dynamodb:ConditionCheckItem', 'dynamodb:DescribeTable', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan'] as const;

/** What `readRecordRuntime` adds to `read`, only on items whose partition key is RUNTIME_RECORD_PARTITION. */
export const RUNTIME_RECORD_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem'] as const;

/**
 * DynamoDB actions per access mode (every action any statement of the mode grants). `append`
 * reads the chain head and puts new items, nothing else; `readRecordRuntime` is `read` plus
 * RUNTIME_RECORD_ACTIONS in a second statement limited by `dynamodb:LeadingKeys`.
 */
export const TABLE_ACTIONS: Readonly<Record<TableAccess, readonly string[]>> = {
  read: [...READ_ACTIONS],
  append: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
  readRecordRuntime: [...READ_ACTIONS, ...RUNTIME_RECORD_ACTIONS].sort(),
  // BatchWriteItem is left out on purpose: it carries DeleteRequests too.
  readUpdate: [...READ_ACTIONS, 'dynamodb:PutItem', 'dynamodb:UpdateItem'].sort(),
  readWrite: [
    'dynamodb:BatchGetItem',
    'dynamodb:BatchWriteItem',
    'dynamodb:ConditionCheckItem',
    'dynamodb:DeleteItem',
    'dynamodb:DescribeTable',
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:Query',
    'dynamodb:Scan',
    'dynamodb:UpdateItem',
  ],
};

/**
 * Item mutations no principal may make on an append-only table, whatever its IAM policy says: a
 * Deny in the table's own resource policy. PutItem stays allowed (it is how events are appended),
 * and no IAM condition key can require its `attribute_not_exists`: the stores never overwrite,
 * but a role holding PutItem can replace an item (which breaks the hash chain `nhigov evidence
 * verify` recomputes, unless every later event is rewritten too).
 */
export const APPEND_ONLY_DENIED_ACTIONS = ['dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:PartiQLDelete', 'dynamodb:PartiQLUpdate', 'dynamodb:UpdateItem'] as const;

export interface GovernanceTablesProps {
  /** Prefix of the physical table names. */
  readonly prefix: string;
  /** The tables to create. */
  readonly tables: readonly TableDefinition[];
}

export class GovernanceTables extends Construct {
  /** The customer-managed key every table is encrypted with (rotation on). */
  readonly key: kms.Key;
  private readonly byId = new Map<TableId, { readonly table: dynamodb.Table; readonly definition: TableDefinition }>();

  constructor(scope: Construct, id: string, props: GovernanceTablesProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: 'nhi-governor: encrypts the evidence, plan, change, approval and policy tables',
      enableKeyRotation: true,
      alias: `alias/${props.prefix}-tables`,
    });
    for (const definition of props.tables) {
      const table = new dynamodb.Table(this, titleCase(definition.id), {
        tableName: physicalName(props.prefix, definition.id),
        partitionKey: attribute(definition.partitionKey),
        ...(definition.sortKey ? { sortKey: attribute(definition.sortKey) } : {}),
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryptionKey: this.key,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        // The audit record cannot be dropped by a stray `cdk destroy` or console click.
        deletionProtection: definition.appendOnly,
        ...(definition.timeToLiveAttribute ? { timeToLiveAttribute: definition.timeToLiveAttribute } : {}),
        ...(definition.appendOnly ? { resourcePolicy: appendOnlyResourcePolicy() } : {}),
      });
      for (const index of definition.indexes) {
        table.addGlobalSecondaryIndex({
          indexName: index.name,
          partitionKey: attribute(index.partitionKey),
          ...(index.sortKey ? { sortKey: attribute(index.sortKey) } : {}),
          projectionType: dynamodb.ProjectionType.ALL,
        });
      }
      this.byId.set(definition.id, { table, definition });
    }
  }

  table(id: TableId): dynamodb.Table {
    return this.entry(id).table;
  }

  /** Every table, for environment variables and outputs. */
  all(): ReadonlyArray<{ readonly definition: TableDefinition; readonly table: dynamodb.Table }> {
    return [...this.byId.values()];
  }

  /**
   * Grants one access mode on one table (and its indexes, named one by one) plus the KMS use it
   * implies. Refuses on an append-only table every mode that could update or delete items.
   */
  grant(role: iam.IRole, id: TableId, access: TableAccess, grantee: string): void {
    const { table, definition } = this.entry(id);
    if (definition.appendOnly && (access === 'readWrite' || access === 'readUpdate' || access === 'readRecordRuntime')) {
      throw new StackDefinitionError(`${grantee}: table "${id}" is append-only; declare access 'append' (PutItem) or 'read', never '${access}'`);
    }
    if (access === 'readRecordRuntime' && definition.partitionKey.type !== 'S') {
      throw new StackDefinitionError(`${grantee}: access 'readRecordRuntime' needs a string partition key ("${RUNTIME_RECORD_PARTITION}"); table "${id}" has a number`);
    }
    const indexArns = definition.indexes.map((index) => `${table.tableArn}/index/${index.name}`);
    if (access === 'readRecordRuntime') {
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...READ_ACTIONS], resources: [table.tableArn, ...indexArns] }));
      // Items are written on the table only (never through an index): no index ARN here.
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: [...RUNTIME_RECORD_ACTIONS],
          resources: [table.tableArn],
          conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [RUNTIME_RECORD_PARTITION] } },
        }),
      );
    } else {
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...TABLE_ACTIONS[access]], resources: [table.tableArn, ...indexArns] }));
    }
    if (access === 'read') this.key.grantDecrypt(role);
    else this.key.grantEncryptDecrypt(role);
  }

  private entry(id: TableId): { readonly table: dynamodb.Table; readonly definition: TableDefinition } {
    const entry = this.byId.get(id);
    if (!entry) throw new StackDefinitionError(`no table "${id}" in TABLES (infra/resources.ts)`);
    return entry;
  }
}

/** Acknowledges the KMS wildcards that `grantEncryptDecrypt` renders, on one role. */
export function acknowledgeTableKeyGrants(role: Construct): void {
  for (const action of ['kms:GenerateDataKey*', 'kms:ReEncrypt*']) {
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Action::${action}]`,
      reason: 'The KMS actions DynamoDB needs to write items encrypted with a customer-managed key (what Table.grantWriteData grants), on the one table key only.',
    });
  }
}

function appendOnlyResourcePolicy(): iam.PolicyDocument {
  return new iam.PolicyDocument({
    statements: [
      new iam.PolicyStatement({
        sid: 'AppendOnlyNoDeleteNoUpdate',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: [...APPEND_ONLY_DENIED_ACTIONS],
        // A table's resource policy cannot name the table's own ARN (CloudFormation creates both at once): "*" is this table.
        resources: ['*'],
      }),
    ],
  });
}

function attribute(key: { readonly name: string; readonly type: 'S' | 'N' }): dynamodb.Attribute {
  return { name: key.name, type: key.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER };
}

function titleCase(id: string): string {
  return `${id.charAt(0).toUpperCase()}${id.slice(1)}Table`;
}
