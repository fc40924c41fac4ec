import { AttachRolePolicyCommand, CreateAccessKeyCommand, CreatePolicyCommand, CreateRoleCommand, CreateUserCommand, type Tag } from '@aws-sdk/client-iam';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { awsClients, memberAccountClients, type AwsClients } from './aws-clients.js';
import type { StackOutputs } from './stack.js';

export interface DemoNhi {
  readonly type: 'user' | 'role' | 'secret';
  readonly name: string;
  readonly owner: string | null;
  readonly env: 'prod' | 'dev';
  readonly keys?: number;
  readonly governed?: boolean;
  /** For secrets: the user whose access key the secret holds. */
  readonly holdsKeyOf?: string;
  /** A member account the NHI lives in; absent: the stack's own account. */
  readonly account?: string;
}

/** The member account the demo estate spans besides the stack's own (the demo policy governs it). */
export const DEMO_MEMBER_ACCOUNT = '111111111111';

/** The demo estate: a dozen NHIs, some prod, one secret holding an access key, one ownerless. */
export const DEMO_ESTATE: readonly DemoNhi[] = [
  { type: 'user', name: 'svc-reporting', owner: 'dave@example.com', env: 'dev', keys: 2 },
  { type: 'user', name: 'svc-etl-dev', owner: 'dave@example.com', env: 'dev', keys: 1 },
  { type: 'user', name: 'svc-payments', owner: 'alice@example.com', env: 'prod', keys: 1 },
  { type: 'user', name: 'svc-invoices', owner: 'alice@example.com', env: 'prod', keys: 1 },
  { type: 'role', name: 'role-batch-prod', owner: 'alice@example.com', env: 'prod' },
  { type: 'secret', name: 'nhigov-demo/svc-invoices-key', owner: 'alice@example.com', env: 'prod', holdsKeyOf: 'svc-invoices' },
  { type: 'user', name: 'svc-backup', owner: 'bob@example.com', env: 'dev', keys: 1 },
  { type: 'user', name: 'svc-metrics', owner: 'carol@example.com', env: 'prod', keys: 1 },
  { type: 'role', name: 'role-deploy', owner: 'carol@example.com', env: 'prod' },
  { type: 'role', name: 'role-ci-dev', owner: 'bob@example.com', env: 'dev' },
  { type: 'user', name: 'svc-legacy-ftp', owner: null, env: 'dev', keys: 1 },
  { type: 'user', name: 'svc-untracked', owner: 'erin@example.com', env: 'dev', keys: 1, governed: false },
  // In a member account: the same name as in the stack's own account, another identity.
  { type: 'user', name: 'svc-reporting', owner: 'dave@example.com', env: 'dev', keys: 1, account: DEMO_MEMBER_ACCOUNT },
  { type: 'role', name: 'role-analytics', owner: 'dave@example.com', env: 'dev', account: DEMO_MEMBER_ACCOUNT },
];

const TRUST_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});

function tagsFor(nhi: DemoNhi): Tag[] {
  return [
    ...(nhi.governed === false ? [] : [{ Key: 'nhi-governed', Value: 'true' }]),
    ...(nhi.owner ? [{ Key: 'owner', Value: nhi.owner }] : []),
    { Key: 'env', Value: nhi.env },
  ];
}

/** Seeds the estate straight into moto (not through the gateway, so the counters start at zero). */
export async function seedDemoEstate(outputs: StackOutputs, log: (line: string) => void): Promise<void> {
  const motoEndpoint = `http://127.0.0.1:${outputs.port + 1}`;
  const home = awsClients(motoEndpoint, outputs.region);
  await seedAccount(home, DEMO_ESTATE.filter((n) => n.account === undefined));
  await seedAccount(await memberAccountClients(motoEndpoint, DEMO_MEMBER_ACCOUNT, outputs.region), DEMO_ESTATE.filter((n) => n.account === DEMO_MEMBER_ACCOUNT));
  log(`seeded the demo estate: ${DEMO_ESTATE.length} NHIs (${DEMO_ESTATE.filter((n) => n.account).length} in member account ${DEMO_MEMBER_ACCOUNT})`);
}

async function seedAccount(clients: Pick<AwsClients, 'iam' | 'secrets'>, estate: readonly DemoNhi[]): Promise<void> {
  const readOnly = await clients.iam.send(
    new CreatePolicyCommand({ PolicyName: 'demo-read-only', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] }) }),
  );
  const keyOf = new Map<string, { AccessKeyId: string; SecretAccessKey: string }>();
  for (const nhi of estate.filter((n) => n.type !== 'secret')) {
    if (nhi.type === 'user') {
      await clients.iam.send(new CreateUserCommand({ UserName: nhi.name, Tags: tagsFor(nhi) }));
      for (let i = 0; i < (nhi.keys ?? 0); i += 1) {
        const key = await clients.iam.send(new CreateAccessKeyCommand({ UserName: nhi.name }));
        if (key.AccessKey?.AccessKeyId && key.AccessKey.SecretAccessKey) keyOf.set(nhi.name, { AccessKeyId: key.AccessKey.AccessKeyId, SecretAccessKey: key.AccessKey.SecretAccessKey });
      }
    } else {
      await clients.iam.send(new CreateRoleCommand({ RoleName: nhi.name, AssumeRolePolicyDocument: TRUST_POLICY, Tags: tagsFor(nhi) }));
      await clients.iam.send(new AttachRolePolicyCommand({ RoleName: nhi.name, PolicyArn: readOnly.Policy?.Arn }));
    }
  }
  for (const nhi of estate.filter((n) => n.type === 'secret')) {
    const key = nhi.holdsKeyOf ? keyOf.get(nhi.holdsKeyOf) : undefined;
    await clients.secrets.send(
      new CreateSecretCommand({
        Name: nhi.name,
        SecretString: JSON.stringify(key ?? {}),
        Tags: [...tagsFor(nhi), ...(nhi.holdsKeyOf ? [{ Key: 'nhigov:kind', Value: 'iam-access-key' }, { Key: 'nhigov:user', Value: nhi.holdsKeyOf }] : [])],
      }),
    );
  }
}
