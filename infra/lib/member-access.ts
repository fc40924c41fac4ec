import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { READ_ONLY_SOURCE_IDENTITY } from '../../lambdas/domain/accounts.js';
import type { ConnectorAccess } from '../resources.js';

export interface MemberAccessProps {
  /** The member roles' names (the policy's `accounts[].roleName`, default nhigov-member). */
  readonly roleNames: readonly string[];
}

/**
 * What the hub's connector roles may assume in member accounts: only the member roles, by name,
 * in any account (which accounts are governed is the signed policy's `accounts`, changed without a
 * deploy; each member role trusts only these hub roles, infra/lib/member-stack.ts). The read side
 * may assume them only as READ_ONLY_SOURCE_IDENTITY, under which a member role writes nothing.
 */
export class MemberAccess extends Construct {
  readonly read: iam.ManagedPolicy;
  readonly write: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: MemberAccessProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const roles = props.roleNames.map((name) => `arn:${stack.partition}:iam::*:role/${name}`);
    this.read = new iam.ManagedPolicy(this, 'ReadPolicy', {
      description: 'nhi-governor read side: assume the member roles as the read-only source identity',
      statements: [
        new iam.PolicyStatement({
          sid: 'AssumeMemberRolesReadOnly',
          actions: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
          resources: roles,
          conditions: { StringEquals: { 'sts:SourceIdentity': READ_ONLY_SOURCE_IDENTITY } },
        }),
      ],
    });
    this.write = new iam.ManagedPolicy(this, 'WritePolicy', {
      description: 'nhi-governor write side: assume the member roles',
      statements: [new iam.PolicyStatement({ sid: 'AssumeMemberRoles', actions: ['sts:AssumeRole'], resources: roles })],
    });
    const reason = 'Member accounts are named in the signed policy, which changes without a deploy: the member roles are allowed by name in any account, and each trusts only the hub connector roles.';
    for (const policy of [this.read, this.write]) {
      for (const name of props.roleNames) Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::*:role/${name}]`, reason });
    }
  }

  attachTo(role: iam.IRole, access: ConnectorAccess): void {
    if (access === 'none') return;
    role.addManagedPolicy(access === 'readWrite' ? this.write : this.read);
  }
}
