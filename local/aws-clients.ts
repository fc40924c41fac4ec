import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';

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
  };
}
