/**
 * The connector policies, derived from what each connector action declares
 * (lambdas/connectors/registry.ts): the read policy (every declared read plus the bulk reads of
 * the snapshot reader) and the write policy (every declared write), both scoped to NHIs tagged
 * `nhi-governed=true` wherever IAM can evaluate that condition. Nothing here is a hand-kept list
 * of what the connectors call: adding an action kind adds its permissions on the next deploy.
 */
import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { connectorPermissions, connectorTagKeys } from '../../lambdas/connectors/registry.js';
import { SNAPSHOT_PERMISSIONS } from '../../lambdas/connectors/snapshot-reader.js';
import { GOVERNED_TAG } from '../../lambdas/domain/snapshot.js';
import type { ConnectorAccess } from '../resources.js';
import { StackDefinitionError } from './errors.js';

/**
 * The actions of one side of the connector policies: `read` is every declared read plus what the
 * snapshot reads, `write` every declared write; without a side, both.
 */
export function connectorActions(side?: 'read' | 'write'): string[] {
  const read = [...connectorPermissions('read'), ...SNAPSHOT_PERMISSIONS];
  const write = connectorPermissions('write');
  return [...new Set(side === 'read' ? read : side === 'write' ? write : [...read, ...write])].sort();
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
 * Tagging actions: tag-scoped like the rest, and additionally limited to the tag keys the
 * connectors declare (`permissions.tagKeys`), so the connector can move an `owner` tag but never
 * take an NHI out of governance (or pull one in) nor retarget a secret (`nhigov:user`).
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

/**
 * Actions that authorize against a customer-managed policy, not an NHI (editing a policy attached
 * to one NHI only, and restoring its previous version). The reads may look at every
 * customer-managed policy of the account (GetAccountAuthorizationDetails reads their documents
 * already). The writes reach only policies tagged nhi-governed=true: rewriting a policy changes
 * whoever it is attached to, and the connector must never rewrite one nobody gave it (its own
 * policies above all; the stack tags none of its resources nhi-governed).
 */
const POLICY_READ_ACTIONS: ReadonlySet<string> = new Set(['iam:GetPolicy', 'iam:GetPolicyVersion', 'iam:ListPolicyVersions']);
const POLICY_WRITE_ACTIONS: ReadonlySet<string> = new Set(['iam:CreatePolicyVersion', 'iam:SetDefaultPolicyVersion']);

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
  /** Per service, the only tag keys its tagging actions may set or remove. @default connectorTagKeys() */
  readonly tagKeys?: ReadonlyMap<string, readonly string[]>;
}

/**
 * The governance guard on every scoped statement. Letter case, as the IAM documentation states it
 * (not measured against live IAM):
 * - the tag key: condition key names are not case-sensitive, and an IAM user / role holds one
 *   tag per key whatever its case (tagging `NHI-Governed` replaces `nhi-governed`), so the key's
 *   spelling neither hides a governed user or role from this guard nor forges a second tag.
 *   Secrets Manager keys are case-sensitive: a secret can carry `NHI-Governed` beside
 *   `nhi-governed`, but only a principal other than the connector can put it there (below);
 * - the value: StringEquals compares case-sensitively on purpose. `isGoverned` (the planner)
 *   accepts exactly "true"; StringEqualsIgnoreCase would reach `True`/`TRUE` NHIs the planner
 *   never governs, so a different case only ever denies (fail closed).
 * Writing the tag is closed by an allowlist of tag keys on tagging actions (case-sensitive
 * StringEquals: `NHI-GOVERNED` is not `owner`), not by a deny list that a case change slips past
 * (the former `ForAllValues:StringNotEquals nhi-governed` let `NHI-Governed` through).
 */
const GOVERNED_CONDITION = { StringEquals: { [`aws:ResourceTag/${GOVERNED_TAG}`]: 'true' } };

/**
 * Groups the actions into statements: bulk reads on "*", group membership by group path, and
 * per service the tag-scoped actions, tagging actions limited to the declared tag keys.
 */
export function connectorStatements(actions: readonly string[], stack: Stack, scope: ConnectorScope = {}): iam.PolicyStatement[] {
  const governed = GOVERNED_CONDITION;
  const tagKeys = scope.tagKeys ?? connectorTagKeys();
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
  const customerPolicies = [stack.formatArn({ service: 'iam', region: '', resource: 'policy', resourceName: '*' })];
  const policyReads = actions.filter((a) => POLICY_READ_ACTIONS.has(a));
  if (policyReads.length) statements.push(new iam.PolicyStatement({ sid: 'IamCustomerManagedPolicyReads', actions: policyReads, resources: customerPolicies }));
  const policyWrites = actions.filter((a) => POLICY_WRITE_ACTIONS.has(a));
  if (policyWrites.length) statements.push(new iam.PolicyStatement({ sid: 'IamCustomerManagedPolicyGovernedOnly', actions: policyWrites, resources: customerPolicies, conditions: governed }));
  const tagScoped = actions.filter((a) => !UNSCOPABLE_ACTIONS.has(a) && !GROUP_ACTIONS.has(a) && !POLICY_READ_ACTIONS.has(a) && !POLICY_WRITE_ACTIONS.has(a));
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
          sid: `${sid}TagGovernedDeclaredKeysOnly`,
          actions: tagging,
          resources,
          conditions: { ...governed, 'ForAllValues:StringEquals': { 'aws:TagKeys': writableTagKeys(service, tagKeys) } },
        }),
      );
    }
  }
  return statements;
}

function writableTagKeys(service: string, tagKeys: ReadonlyMap<string, readonly string[]>): string[] {
  const keys = [...(tagKeys.get(service) ?? [])].sort();
  if (!keys.length) throw new StackDefinitionError(`connector tagging actions of "${service}" declare no tagKeys: refusing to grant tagging with any key`);
  const governance = keys.find((key) => key.toLowerCase() === GOVERNED_TAG.toLowerCase());
  if (governance !== undefined) throw new StackDefinitionError(`connector tagKeys of "${service}" name the governance tag "${governance}": no connector may write it`);
  return keys;
}

function serviceOf(action: string): string {
  const [service, name] = action.split(':');
  if (!service || !name) throw new StackDefinitionError(`connector permission "${action}" is not service:Action`);
  return service;
}

export interface ConnectorPolicyProps {
  /** IAM path of the groups the connector may add users to / remove users from. @default '/' */
  readonly groupPath?: string;
}

/**
 * The two connector policies, each one managed policy: `read` for every connector function,
 * `write` only for the functions that write (`connector: 'readWrite'`, infra/resources.ts).
 */
export class ConnectorPolicy extends Construct {
  /** The declared reads and the snapshot reads. */
  readonly read: iam.ManagedPolicy;
  /** The declared writes (IAM / Secrets Manager mutations). */
  readonly write: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: ConnectorPolicyProps = {}) {
    super(scope, id);
    const connectorScope = props.groupPath ? { groupPath: props.groupPath } : {};
    this.read = this.policy('ReadPolicy', connectorActions('read'), connectorScope, 'nhi-governor connectors, reads: what connector actions read and verify, and the snapshot reads, on NHIs tagged nhi-governed=true');
    this.write = this.policy('WritePolicy', connectorActions('write'), connectorScope, 'nhi-governor connectors, writes: the IAM / Secrets Manager mutations connector actions declare, on NHIs tagged nhi-governed=true');
  }

  /** Attaches the policies of one connector access mode to a function's role. */
  attachTo(role: iam.IRole, access: ConnectorAccess): void {
    if (access === 'none') return;
    role.addManagedPolicy(this.read);
    if (access === 'readWrite') role.addManagedPolicy(this.write);
  }

  private policy(id: string, actions: readonly string[], connectorScope: ConnectorScope, description: string): iam.ManagedPolicy {
    const stack = Stack.of(this);
    const statements = connectorStatements(actions, stack, connectorScope);
    const policy = new iam.ManagedPolicy(this, id, { description, statements });
    const reason =
      'Governed NHIs are not known at deploy time: every user / role / secret action is limited by the aws:ResourceTag/nhi-governed=true condition instead of by name. The bulk reads (GetAccountAuthorizationDetails, ListSecrets) have no resource type, so IAM only accepts "*" for them. Group membership acts on groups, which cannot be tagged: limited to the governedGroupPath. Customer-managed policies are not known at deploy time either: read on any (their documents are in the bulk read already), written only when tagged nhi-governed=true.';
    for (const resource of wildcardResources(stack, statements)) {
      Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[Resource::${resource}]`, reason });
    }
    return policy;
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
