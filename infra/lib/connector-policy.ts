/**
 * The connector policy: every IAM action a connector action declares (lambdas/connectors/registry.ts)
 * plus the bulk reads of the snapshot reader, scoped to NHIs tagged `nhi-governed=true` wherever
 * IAM can evaluate that condition. Nothing here is a hand-kept list of what the connectors call:
 * adding an action kind adds its permissions to the role on the next deploy.
 */
import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { connectorPermissions } from '../../lambdas/connectors/registry.js';
import { SNAPSHOT_PERMISSIONS } from '../../lambdas/connectors/snapshot-reader.js';
import { GOVERNED_TAG } from '../../lambdas/domain/snapshot.js';
import { StackDefinitionError } from './errors.js';

/** Every action the connector role needs: what connectors declare ∪ what the snapshot reads. */
export function connectorActions(): string[] {
  return [...new Set([...connectorPermissions(), ...SNAPSHOT_PERMISSIONS])].sort();
}

/**
 * Actions that authorize against no resource ("*" only) in the Service Authorization Reference,
 * so IAM has no resource whose tag it could test: they cannot be scoped to governed NHIs. This is
 * a list of AWS facts, not of our calls; an action missing here is scoped by tag (fail closed:
 * a wrong guess shows up as CONNECTOR_ACCESS_DENIED, never as extra access).
 */
const UNSCOPABLE_ACTIONS: ReadonlySet<string> = new Set([
  'iam:GetAccountAuthorizationDetails',
  'iam:GetAccountSummary',
  'iam:GenerateCredentialReport',
  'iam:GetCredentialReport',
  'iam:ListPolicies',
  'iam:ListRoles',
  'iam:ListUsers',
  'secretsmanager:BatchGetSecretValue',
  'secretsmanager:GetRandomPassword',
  'secretsmanager:ListSecrets',
]);

/**
 * Tagging actions: tag-scoped like the rest, and additionally barred from touching the governance
 * tag itself, so the connector can move an `owner` tag but never take an NHI out of governance
 * (or pull one in).
 */
const TAGGING_ACTIONS: ReadonlySet<string> = new Set([
  'iam:TagUser',
  'iam:UntagUser',
  'iam:TagRole',
  'iam:UntagRole',
  'secretsmanager:TagResource',
  'secretsmanager:UntagResource',
]);

/**
 * Actions that authorize against an IAM group, not the user: IAM groups cannot carry tags, so a
 * tag condition would deny them always. They are limited to the groups under a path instead
 * (`governedGroupPath`, default "/": every group). Removing a user from a group is revocation;
 * adding is its inverse, used to roll a removal back.
 */
const GROUP_ACTIONS: ReadonlySet<string> = new Set(['iam:AddUserToGroup', 'iam:RemoveUserFromGroup']);

/** Where a scoped action of each service can act: the resource types our NHIs are. */
function scopedResources(service: string, stack: Stack): string[] {
  switch (service) {
    case 'iam':
      return [
        stack.formatArn({ service: 'iam', region: '', resource: 'user', resourceName: '*' }),
        stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: '*' }),
      ];
    case 'secretsmanager':
      return [stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })];
    default:
      throw new StackDefinitionError(`connector permission of service "${service}": no scoping rule (add one in infra/lib/connector-policy.ts)`);
  }
}

export interface ConnectorScope {
  /** IAM path of the groups group-membership actions may change, e.g. "/" or "/governed/". @default '/' */
  readonly groupPath?: string;
}

/**
 * Groups the actions into statements: bulk reads on "*", group membership by group path, and
 * per service the tag-scoped actions, tagging actions kept off the governance tag.
 */
export function connectorStatements(actions: readonly string[], stack: Stack, scope: ConnectorScope = {}): iam.PolicyStatement[] {
  const governed = { StringEquals: { [`aws:ResourceTag/${GOVERNED_TAG}`]: 'true' } };
  const statements: iam.PolicyStatement[] = [];
  const unscoped = actions.filter((a) => UNSCOPABLE_ACTIONS.has(a));
  if (unscoped.length) statements.push(new iam.PolicyStatement({ sid: 'BulkReadsWithoutResource', actions: unscoped, resources: ['*'] }));
  const groups = actions.filter((a) => GROUP_ACTIONS.has(a));
  if (groups.length) {
    const groupPath = scope.groupPath ?? '/';
    statements.push(
      new iam.PolicyStatement({
        sid: 'IamGroupMembershipByPath',
        actions: groups,
        resources: [stack.formatArn({ service: 'iam', region: '', resource: 'group', resourceName: `${groupPath.slice(1)}*` })],
      }),
    );
  }
  const tagScoped = actions.filter((a) => !UNSCOPABLE_ACTIONS.has(a) && !GROUP_ACTIONS.has(a));
  for (const service of [...new Set(tagScoped.map(serviceOf))].sort()) {
    const ofService = tagScoped.filter((a) => serviceOf(a) === service);
    const plain = ofService.filter((a) => !TAGGING_ACTIONS.has(a));
    const tagging = ofService.filter((a) => TAGGING_ACTIONS.has(a));
    const resources = scopedResources(service, stack);
    const sid = service.charAt(0).toUpperCase() + service.slice(1);
    if (plain.length) statements.push(new iam.PolicyStatement({ sid: `${sid}GovernedOnly`, actions: plain, resources, conditions: governed }));
    if (tagging.length) {
      statements.push(
        new iam.PolicyStatement({
          sid: `${sid}TagGovernedKeepGovernanceTag`,
          actions: tagging,
          resources,
          conditions: { ...governed, 'ForAllValues:StringNotEquals': { 'aws:TagKeys': [GOVERNED_TAG] } },
        }),
      );
    }
  }
  return statements;
}

function serviceOf(action: string): string {
  const [service, name] = action.split(':');
  if (!service || !name) throw new StackDefinitionError(`connector permission "${action}" is not service:Action`);
  return service;
}

/** The connector role's policy, one managed policy attached to every connector function's role. */
export interface ConnectorPolicyProps {
  /** IAM path of the groups the connector may add users to / remove users from. @default '/' */
  readonly groupPath?: string;
}

export class ConnectorPolicy extends Construct {
  /** The managed policy holding the connector statements. */
  readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: ConnectorPolicyProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    const statements = connectorStatements(connectorActions(), stack, props.groupPath ? { groupPath: props.groupPath } : {});
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      description: 'nhi-governor connectors: the IAM / Secrets Manager actions connector actions declare, on NHIs tagged nhi-governed=true',
      statements,
    });
    const reason =
      'Governed NHIs are not known at deploy time: every user / role / secret action is limited by the aws:ResourceTag/nhi-governed=true condition instead of by name. The bulk reads (GetAccountAuthorizationDetails, ListSecrets) have no resource type, so IAM only accepts "*" for them. Group membership acts on groups, which cannot be tagged: limited to the governedGroupPath.';
    for (const resource of wildcardResources(stack, statements)) {
      Validations.of(this.policy).acknowledge({ id: `AwsSolutions-IAM5[Resource::${resource}]`, reason });
    }
  }

  /** Attaches the connector statements to a function's role. */
  attachTo(role: iam.IRole): void {
    role.addManagedPolicy(this.policy);
  }
}

/**
 * The wildcard resources of the statements as cdk-nag names them in a finding id: literal text,
 * with `<AWS::Partition>`-style placeholders for the pseudo parameters of an agnostic stack.
 */
function wildcardResources(stack: Stack, statements: readonly iam.PolicyStatement[]): string[] {
  const render = (value: unknown): string => {
    if (typeof value === 'string') return value;
    if (isRecord(value) && typeof value['Ref'] === 'string') return `<${value['Ref']}>`;
    if (isRecord(value) && Array.isArray(value['Fn::Join'])) {
      const [separator, parts] = value['Fn::Join'] as [string, unknown[]];
      return parts.map(render).join(separator);
    }
    throw new StackDefinitionError(`connector policy: cannot name resource ${JSON.stringify(value)} for cdk-nag`);
  };
  const resources = statements.flatMap((statement) => statement.resources.map((resource) => render(stack.resolve(resource))));
  return [...new Set(resources.filter((resource) => resource.includes('*')))];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
