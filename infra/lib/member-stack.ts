/**
 * The member stack (`NhiGovernorMember`): deployed into every member account the hub governs
 * (one stack per account, typically by a service-managed StackSet with automatic deployment to an
 * OU). It holds one role, the member role the hub's connectors assume. Its permissions are the
 * hub's connector policies, built from the same connector declarations with the same tag
 * conditions; its trust names only the hub's connector roles (by IAM path), and a read-side hub
 * role may assume it only under a source identity for which every write is denied.
 *
 * The template is environment-agnostic and takes the hub account as a parameter, so one synthesized
 * template serves every account of a StackSet.
 */
import { CfnOutput, CfnParameter, CliCredentialsStackSynthesizer, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { CONNECTOR_ROLE_PATH, DEFAULT_MEMBER_ROLE_NAME, READ_ONLY_SOURCE_IDENTITY } from '../../lambdas/domain/accounts.js';
import { connectorActions, ConnectorPolicy } from './connector-policy.js';
import { StackDefinitionError } from './errors.js';

export interface NhiGovernorMemberStackProps extends StackProps {
  /** Name of the member role; the policy's `accounts[].roleName` must name the same. @default 'nhigov-member' */
  readonly roleName?: string;
  /** IAM path of the groups group-membership actions may change. @default '/' */
  readonly groupPath?: string;
}

/** The hub's connector roles, by path, in the account the `HubAccountId` parameter names. */
function hubRolePattern(path: string): string {
  return Fn.sub(`arn:\${AWS::Partition}:iam::\${HubAccountId}:role${path}*`);
}

export class NhiGovernorMemberStack extends Stack {
  /** The role the hub's connectors assume in this account. */
  readonly memberRole: iam.Role;

  constructor(scope: Construct, id: string, props: NhiGovernorMemberStackProps = {}) {
    // No CDK bootstrap in member accounts: a StackSet deploys the template as it is (no
    // BootstrapVersion parameter to resolve), and `cdk deploy` uses the caller's credentials.
    super(scope, id, { synthesizer: new CliCredentialsStackSynthesizer(), ...props });
    const roleName = props.roleName ?? DEFAULT_MEMBER_ROLE_NAME;
    if (!/^[\w+=,.@-]{1,64}$/.test(roleName)) throw new StackDefinitionError(`member roleName "${roleName}" is not a valid IAM role name`);

    const hubAccount = new CfnParameter(this, 'HubAccountId', {
      type: 'String',
      allowedPattern: '^\\d{12}$',
      description: 'The AWS account the nhi-governor hub stack (NhiGovernor) runs in',
    });
    const hub = hubAccount.valueAsString;

    // Writers: the hub roles under the write path. Readers: the hub roles under the read path, and
    // only with the read-only source identity (SetSourceIdentity is what lets them set it).
    this.memberRole = new iam.Role(this, 'MemberRole', {
      roleName,
      assumedBy: new iam.AccountPrincipal(hub).withConditions({ ArnLike: { 'aws:PrincipalArn': hubRolePattern(CONNECTOR_ROLE_PATH.readWrite) } }),
      description: 'nhi-governor member role: the hub connectors act on governed NHIs of this account through it',
    });
    this.memberRole.assumeRolePolicy?.addStatements(
      new iam.PolicyStatement({
        actions: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
        principals: [new iam.AccountPrincipal(hub)],
        conditions: {
          ArnLike: { 'aws:PrincipalArn': hubRolePattern(CONNECTOR_ROLE_PATH.read) },
          StringEquals: { 'sts:SourceIdentity': READ_ONLY_SOURCE_IDENTITY },
        },
      }),
    );

    const connectorPolicy = new ConnectorPolicy(this, 'Connector', props.groupPath ? { groupPath: props.groupPath } : {});
    connectorPolicy.attachTo(this.memberRole, 'readWrite');
    this.memberRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadSideSessionsWriteNothing',
        effect: iam.Effect.DENY,
        actions: connectorActions('write'),
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceIdentity': READ_ONLY_SOURCE_IDENTITY } },
      }),
    );

    new CfnOutput(this, 'MemberRoleArn', { value: this.memberRole.roleArn, description: 'The role the hub assumes in this account' });
  }
}
