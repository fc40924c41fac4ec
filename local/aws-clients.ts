import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { IAMClient } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { DEFAULT_MEMBER_ROLE_NAME } from '../lambdas/domain/accounts.js';

export const LOCAL_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;
export const LOCAL_ACCOUNT_ID = '123456789012';

export interface AwsClients {
  readonly iam: IAMClient;
  readonly secrets: SecretsManagerClient;
  readonly dynamodb: DynamoDBClient;
  readonly sfn: SFNClient;
  readonly sqs: SQSClient;
  readonly events: EventBridgeClient;
  readonly ses: SESv2Client;
  readonly cloudformation: CloudFormationClient;
  readonly s3: S3Client;
  readonly kms: KMSClient;
}

/** SDK clients for one endpoint (the gateway for users and tests, moto itself for deploy). */
export function awsClients(endpoint: string, region = 'us-east-1'): AwsClients {
  const config = { endpoint, region, credentials: LOCAL_CREDENTIALS };
  return {
    iam: new IAMClient(config),
    secrets: new SecretsManagerClient(config),
    dynamodb: new DynamoDBClient(config),
    sfn: new SFNClient(config),
    sqs: new SQSClient(config),
    events: new EventBridgeClient(config),
    ses: new SESv2Client(config),
    cloudformation: new CloudFormationClient(config),
    // Path-style: the endpoint is an IP address, not a host a bucket name can prefix.
    s3: new S3Client({ ...config, forcePathStyle: true }),
    kms: new KMSClient(config),
  };
}

/**
 * IAM and Secrets Manager clients acting in member account `account` of the emulator: moto hands
 * out that account's credentials from AssumeRole (the role need not exist), and calls made with
 * them act on that account's own IAM. How the demo and tests set up NHIs in member accounts.
 */
export async function memberAccountClients(endpoint: string, account: string, region = 'us-east-1'): Promise<Pick<AwsClients, 'iam' | 'secrets'>> {
  const sts = new STSClient({ endpoint, region, credentials: LOCAL_CREDENTIALS });
  const out = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/${DEFAULT_MEMBER_ROLE_NAME}`, RoleSessionName: 'nhigov-local-setup' }));
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw new Error(`the emulator gave no credentials for account ${account}`);
  const config = { endpoint, region, credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken } };
  return { iam: new IAMClient(config), secrets: new SecretsManagerClient(config) };
}
