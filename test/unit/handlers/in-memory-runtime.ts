import { canonicalJson, sha256Hex } from '../../../lambdas/domain/canonical.js';
import { GENESIS_HASH, sealEvidence, type EvidenceDraft, type EvidenceEvent } from '../../../lambdas/domain/evidence.js';
import type { Plan } from '../../../lambdas/domain/plan-model.js';
import type { SignedPolicy } from '../../../lambdas/domain/policy-signature.js';
import { AppError } from '../../../lambdas/domain/reasons.js';
import type { ChangeStartRuntime } from '../../../lambdas/handlers/core/begin-change.js';
import type { ChangeRecord } from '../../../lambdas/stores/change-store.js';
import { parseStoredPlan } from '../../../lambdas/stores/plan-store.js';

/**
 * The stores a change start uses, kept in memory with the same contracts as the DynamoDB ones:
 * create once, update only what exists, evidence sealed into a hash chain in the order handed over, plans stored as
 * canonical JSON under their hash and parsed back through the store's own parser.
 */
export class InMemoryRuntime implements ChangeStartRuntime {
  readonly records = new Map<string, ChangeRecord>();
  readonly chains = new Map<string, EvidenceEvent[]>();
  readonly bodies = new Map<string, string>();
  policy: () => Promise<SignedPolicy>;
  private tick = 0;

  constructor(policy: SignedPolicy) {
    this.policy = async () => policy;
  }

  readonly changes: ChangeStartRuntime['changes'] = {
    create: async (record) => {
      if (this.records.has(record.changeId)) return false;
      this.records.set(record.changeId, { ...record, updatedAt: record.createdAt });
      return true;
    },
    get: async (changeId) => this.records.get(changeId),
    update: async (changeId, fields) => {
      const record = this.records.get(changeId);
      if (!record) throw Object.assign(new Error(`no change ${changeId}`), { name: 'ConditionalCheckFailedException' });
      this.records.set(changeId, { ...record, ...fields, updatedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, ++this.tick)).toISOString() });
    },
  };

  readonly evidence: ChangeStartRuntime['evidence'] = {
    append: async (...drafts: EvidenceDraft[]) => {
      for (const draft of drafts) {
        const chain = this.chains.get(draft.changeId) ?? [];
        const event = sealEvidence(draft, chain.length + 1, new Date(Date.UTC(2026, 0, 1, 0, 0, ++this.tick)).toISOString(), chain.at(-1)?.hash ?? GENESIS_HASH);
        this.chains.set(draft.changeId, [...chain, event]);
      }
    },
  };

  readonly plans: ChangeStartRuntime['plans'] = {
    put: async (plan: Plan) => {
      const body = canonicalJson(plan);
      const planHash = sha256Hex(body);
      if (!this.bodies.has(planHash)) this.bodies.set(planHash, body);
      return planHash;
    },
  };

  loadPolicy(): Promise<SignedPolicy> {
    return this.policy();
  }

  async loadPlan(planHash: string): Promise<Plan> {
    const body = this.bodies.get(planHash);
    if (body === undefined) throw new AppError('INPUT_INVALID', `no stored plan ${planHash}`);
    return parseStoredPlan(planHash, body);
  }

  chain(changeId: string): EvidenceEvent[] {
    return this.chains.get(changeId) ?? [];
  }
}
