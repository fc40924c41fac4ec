import { awsClients, type AwsClients } from '../../local/aws-clients.js';
import { localSettings } from '../../local/settings.js';
import { isAlive, readStackOutputs, type StackOutputs } from '../../local/stack.js';
import { createDocumentClient } from '../../lambdas/stores/dynamo.js';
import { ChangeStore } from '../../lambdas/stores/change-store.js';
import { EvidenceStore } from '../../lambdas/stores/evidence-store.js';
import { PlanStore } from '../../lambdas/stores/plan-store.js';
import { PolicyStore } from '../../lambdas/stores/policy-store.js';
import { OperationFailed } from './io.js';

/** What commands work with: the running local stack's outputs, SDK clients and stores. */
export interface StackContext {
  readonly outputs: StackOutputs;
  readonly clients: AwsClients;
  readonly changes: ChangeStore;
  readonly evidence: EvidenceStore;
  readonly plans: PlanStore;
  readonly policies: PolicyStore;
}

export function stackContext(): StackContext {
  const settings = localSettings();
  const outputs = readStackOutputs(settings);
  if (!outputs || !isAlive(outputs.pids.server)) {
    throw new OperationFailed(`no local stack is running for ${settings.stateDir} (start one with: nhigov local up --detach)`);
  }
  return contextFromOutputs(outputs);
}

/** A context for a known stack (the gateway's console builds one from its own outputs). */
export function contextFromOutputs(outputs: StackOutputs): StackContext {
  const clients = awsClients(outputs.endpoint, outputs.region);
  const db = createDocumentClient(clients.dynamodb);
  return {
    outputs,
    clients,
    changes: new ChangeStore(db, outputs.tables.changes ?? ''),
    evidence: new EvidenceStore(db, { evidence: outputs.tables.evidence ?? '', changes: outputs.tables.changes ?? '' }),
    plans: new PlanStore(db, outputs.tables.plans ?? ''),
    policies: new PolicyStore(db, outputs.tables.policies ?? ''),
  };
}
