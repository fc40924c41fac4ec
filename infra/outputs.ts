/**
 * The CloudFormation Outputs operators rely on: the CDK stack declares each of them
 * (infra/lib/stack.ts), the local stack registers a stack in the emulator with the same names
 * (local/register-stack.ts), and the CLI finds everything it operates through them
 * (cli/lib/context.ts). Plain data and a schema: no CDK and no AWS SDK here.
 */
import { z } from 'zod';
import { formatIssues } from '../lambdas/domain/events.js';

/** The name `cdk deploy` gives the stack, and the one `nhigov local up` registers. */
export const DEFAULT_STACK_NAME = 'NhiGovernor';

const arn = z.string().regex(/^arn:aws[a-z-]*:/, 'an ARN');
const name = z.string().min(1);

/** Output name → what the value must look like. */
export const OPERATOR_OUTPUT_SCHEMAS = {
  ChangeStateMachineArn: arn,
  RollbackStateMachineArn: arn,
  FinalizeStateMachineArn: arn,
  EvidenceTableName: name,
  ChangesTableName: name,
  ActionsTableName: name,
  PlansTableName: name,
  ApprovalsTableName: name,
  PoliciesTableName: name,
  EventBusName: name,
  /** Base URL of the signed-link approval API (the function URL; the gateway locally). */
  ApprovalUrl: z.url(),
  /** The secret holding the HMAC key approval links are signed with. */
  ApprovalLinkKeySecretArn: arn,
  /** PEM of the Ed25519 key the runtimes trust policies from. */
  PolicyPublicKey: z.string().includes('BEGIN PUBLIC KEY'),
  /** The Object-Locked bucket of signed evidence checkpoints. */
  CheckpointBucketName: name,
  /** The KMS key checkpoints are signed with (verifying needs only its public key). */
  CheckpointKeyArn: arn,
  /** The function that writes a checkpoint on demand. */
  CheckpointFunctionName: name,
  /** The function that opens and sweeps attestation campaigns (nhigov attest). */
  AttestationFunctionName: name,
} as const;

export type OperatorOutputName = keyof typeof OPERATOR_OUTPUT_SCHEMAS;

/** Every output the CLI reads. */
export const OPERATOR_OUTPUT_NAMES = Object.keys(OPERATOR_OUTPUT_SCHEMAS) as OperatorOutputName[];

const outputsSchema = z.object(OPERATOR_OUTPUT_SCHEMAS);

/** What a stack gives an operator, named for use. */
export interface OperatorOutputs {
  readonly stateMachines: { readonly change: string; readonly rollback: string; readonly finalize: string };
  readonly tables: { readonly evidence: string; readonly changes: string; readonly actions: string; readonly plans: string; readonly approvals: string; readonly policies: string };
  readonly eventBusName: string;
  readonly approvalUrl: string;
  readonly approvalLinkKeySecretArn: string;
  readonly policyPublicKeyPem: string;
  readonly checkpoints: { readonly bucket: string; readonly keyArn: string; readonly functionName: string };
  readonly attestationFunctionName: string;
}

/** Parses DescribeStacks Outputs; names what is missing or malformed. */
export function parseOperatorOutputs(outputs: ReadonlyArray<{ OutputKey?: string | undefined; OutputValue?: string | undefined }>): { ok: true; outputs: OperatorOutputs } | { ok: false; error: string } {
  const values = Object.fromEntries(outputs.filter((o) => o.OutputKey).map((o) => [o.OutputKey, o.OutputValue]));
  const parsed = outputsSchema.safeParse(values);
  if (!parsed.success) return { ok: false, error: formatIssues(parsed.error) };
  const o = parsed.data;
  return {
    ok: true,
    outputs: {
      stateMachines: { change: o.ChangeStateMachineArn, rollback: o.RollbackStateMachineArn, finalize: o.FinalizeStateMachineArn },
      tables: { evidence: o.EvidenceTableName, changes: o.ChangesTableName, actions: o.ActionsTableName, plans: o.PlansTableName, approvals: o.ApprovalsTableName, policies: o.PoliciesTableName },
      eventBusName: o.EventBusName,
      approvalUrl: o.ApprovalUrl,
      approvalLinkKeySecretArn: o.ApprovalLinkKeySecretArn,
      policyPublicKeyPem: o.PolicyPublicKey,
      checkpoints: { bucket: o.CheckpointBucketName, keyArn: o.CheckpointKeyArn, functionName: o.CheckpointFunctionName },
      attestationFunctionName: o.AttestationFunctionName,
    },
  };
}

/** The inverse of parseOperatorOutputs: what a stack declares, by output name. */
export function operatorOutputValues(outputs: OperatorOutputs): Record<OperatorOutputName, string> {
  return {
    ChangeStateMachineArn: outputs.stateMachines.change,
    RollbackStateMachineArn: outputs.stateMachines.rollback,
    FinalizeStateMachineArn: outputs.stateMachines.finalize,
    EvidenceTableName: outputs.tables.evidence,
    ChangesTableName: outputs.tables.changes,
    ActionsTableName: outputs.tables.actions,
    PlansTableName: outputs.tables.plans,
    ApprovalsTableName: outputs.tables.approvals,
    PoliciesTableName: outputs.tables.policies,
    EventBusName: outputs.eventBusName,
    ApprovalUrl: outputs.approvalUrl,
    ApprovalLinkKeySecretArn: outputs.approvalLinkKeySecretArn,
    PolicyPublicKey: outputs.policyPublicKeyPem,
    CheckpointBucketName: outputs.checkpoints.bucket,
    CheckpointKeyArn: outputs.checkpoints.keyArn,
    CheckpointFunctionName: outputs.checkpoints.functionName,
    AttestationFunctionName: outputs.attestationFunctionName,
  };
}
