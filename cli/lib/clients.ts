import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { IAMClient } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { STSClient } from '@aws-sdk/client-sts';

/** The AWS services an operator's commands call. */
export interface OperatorClients {
  readonly cloudformation: CloudFormationClient;
  readonly dynamodb: DynamoDBClient;
  readonly events: EventBridgeClient;
  readonly iam: IAMClient;
  readonly secrets: SecretsManagerClient;
  readonly sfn: SFNClient;
  readonly sts: STSClient;
  readonly s3: S3Client;
  readonly kms: KMSClient;
  readonly lambda: LambdaClient;
}

/**
 * How to reach AWS. Empty but for the region in stack mode: the SDK's own configuration decides
 * the rest (credential chain, AWS_PROFILE, AWS_ENDPOINT_URL). The local stack's connection file
 * names its gateway and the credentials it accepts.
 */
export interface ClientSettings {
  readonly region: string;
  readonly endpoint?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

export function operatorClients(settings: ClientSettings): OperatorClients {
  const config = { region: settings.region, ...(settings.endpoint ? { endpoint: settings.endpoint } : {}), ...(settings.credentials ? { credentials: settings.credentials } : {}) };
  return {
    cloudformation: new CloudFormationClient(config),
    dynamodb: new DynamoDBClient(config),
    events: new EventBridgeClient(config),
    iam: new IAMClient(config),
    secrets: new SecretsManagerClient(config),
    sfn: new SFNClient(config),
    sts: new STSClient(config),
    // Path-style when an endpoint is given (the local gateway is an IP address).
    s3: new S3Client({ ...config, forcePathStyle: settings.endpoint !== undefined }),
    kms: new KMSClient(config),
    lambda: new LambdaClient(config),
  };
}

/** The region the SDK's configuration names (AWS_REGION, the profile), else us-east-1. */
export async function configuredRegion(): Promise<string> {
  try {
    return await new STSClient({}).config.region();
  } catch {
    return 'us-east-1';
  }
}
