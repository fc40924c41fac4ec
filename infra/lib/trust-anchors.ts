/**
 * Where the evidence chains are anchored outside the evidence table: an S3 bucket with Object
 * Lock in compliance mode (no one, root included, deletes a checkpoint or shortens its retention)
 * and a KMS asymmetric key that only the checkpoint writers may sign with. Verifying needs only
 * the key's public half (kms:GetPublicKey), so auditors never hold a signing right.
 */
import { Duration, Lazy, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { CHECKPOINT_INDEX_PREFIX, CHECKPOINT_PREFIX } from '../../lambdas/domain/checkpoint.js';

export interface TrustAnchorsProps {
  /** Object Lock retention of each checkpoint, in days (compliance mode). */
  readonly retentionDays: number;
}

export class TrustAnchors extends Construct {
  readonly bucket: s3.Bucket;
  readonly key: kms.Key;
  private readonly writers: iam.IRole[] = [];

  constructor(scope: Construct, id: string, props: TrustAnchorsProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Checkpoints', {
      objectLockEnabled: true,
      objectLockDefaultRetention: s3.ObjectLockRetention.compliance(Duration.days(props.retentionDays)),
      versioned: true,
      enforceSSL: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // A checkpoint is written once under the key of its number: a put that could replace one
    // (without If-None-Match: *) is refused, whoever asks. Object Lock keeps old versions anyway.
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects('*')],
        conditions: { Null: { 's3:if-none-match': 'true' } },
      }),
    );
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'Checkpoints are written only by the checkpoint writer roles (kms:Sign is theirs alone) and can never be replaced or deleted (Object Lock, compliance mode); reads are recorded by CloudTrail data events where the account enables them.',
    });
    this.key = new kms.Key(this, 'CheckpointKey', {
      description: 'nhi-governor: signs evidence checkpoints (ECDSA P-256); only the checkpoint writers may sign',
      keySpec: kms.KeySpec.ECC_NIST_P256,
      keyUsage: kms.KeyUsage.SIGN_VERIFY,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // The default key policy lets IAM policies grant kms:Sign: deny it to every principal but the writers.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:Sign'],
        resources: ['*'],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': Lazy.list({ produce: () => this.writers.map((r) => r.roleArn) }) } },
      }),
    );
  }

  /** Read checkpoints and the key's public half (the policy high-water mark, verification). */
  grantRead(role: iam.IRole): void {
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:GetObjectVersion'], resources: [this.bucket.arnForObjects(`${CHECKPOINT_PREFIX}*`)] }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket', 's3:ListBucketVersions'], resources: [this.bucket.bucketArn] }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kms:GetPublicKey'], resources: [this.key.keyArn] }));
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.bucketResource())}.Arn>/${CHECKPOINT_PREFIX}*]`,
      reason: 'Checkpoint objects are keyed by their number: the grant covers the checkpoints/ prefix of the one checkpoint bucket.',
    });
  }

  /** Read, put new checkpoints, and sign with the key. */
  grantWrite(role: iam.IRole): void {
    this.grantRead(role);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [this.bucket.arnForObjects(`${CHECKPOINT_PREFIX}*`), this.bucket.arnForObjects(`${CHECKPOINT_INDEX_PREFIX}*`)] }),
    );
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.bucketResource())}.Arn>/${CHECKPOINT_INDEX_PREFIX}*]`,
      reason: 'The by-change markers of the checkpoints (a few bytes each, one per change a checkpoint names), written once with If-None-Match.',
    });
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kms:Sign'], resources: [this.key.keyArn] }));
    this.writers.push(role);
  }

  private bucketResource(): s3.CfnBucket {
    const resource = this.bucket.node.defaultChild;
    if (!(resource instanceof s3.CfnBucket)) throw new Error('the checkpoint bucket has no CfnBucket');
    return resource;
  }
}
