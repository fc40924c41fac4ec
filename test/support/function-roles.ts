import { GetRoleCommand } from '@aws-sdk/client-iam';
import { SQSClient } from '@aws-sdk/client-sqs';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { physicalName, DEFAULT_PREFIX } from '../../infra/resources.js';
import { LOCAL_CREDENTIALS } from '../../local/aws-clients.js';
import type { TestStack } from './local-stack.js';

/** A function's role in the local stack, and SQS calling as a session of it (as Lambda runs the function): through the gateway, not faulted by it. */
export async function asFunction(stack: TestStack, functionName: string): Promise<{ readonly roleId: string; readonly senderId: string; readonly sqs: SQSClient }> {
  const name = physicalName(DEFAULT_PREFIX, functionName);
  const role = await stack.clients.iam.send(new GetRoleCommand({ RoleName: name }));
  const sts = new STSClient({ endpoint: stack.endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
  const session = await sts.send(new AssumeRoleCommand({ RoleArn: role.Role?.Arn, RoleSessionName: name }));
  const c = session.Credentials;
  if (!role.Role?.RoleId || !c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw new Error(`no session of ${name}'s role`);
  return {
    roleId: role.Role.RoleId,
    senderId: `${role.Role.RoleId}:${name}`,
    sqs: new SQSClient({ endpoint: stack.endpoint, region: 'us-east-1', credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken } }),
  };
}
