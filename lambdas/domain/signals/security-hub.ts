import { z } from 'zod';
import type { GovernanceEvent } from '../events.js';
import { causeOf, ignored, invalid, isoOrUndefined, triggers, type ProviderEnvelope, type SignalResult, type SignalSource } from './signal.js';

const SOURCE = 'aws.securityhub';
const DETAIL_TYPE = 'Security Hub Findings - Imported';
/** ASFF resource types that are (or name) an NHI we govern. */
const NHI_RESOURCE_TYPES = ['AwsIamUser', 'AwsIamRole', 'AwsIamAccessKey'] as const;

const resourceSchema = z.looseObject({
  Type: z.string().min(1).max(256),
  Id: z.string().min(1).max(2048),
  Details: z.looseObject({ AwsIamAccessKey: z.looseObject({ UserName: z.string().max(128).optional(), PrincipalName: z.string().max(128).optional() }).optional() }).optional(),
});
const findingSchema = z.looseObject({
  Id: z.string().min(1).max(2048),
  UpdatedAt: z.string().min(1).max(64),
  Title: z.string().max(1024).optional(),
  Severity: z.looseObject({ Label: z.string().max(64).optional() }).optional(),
  Compliance: z.looseObject({ Status: z.string().max(64).optional(), SecurityControlId: z.string().max(256).optional() }).optional(),
  Workflow: z.looseObject({ Status: z.string().max(64).optional() }).optional(),
  RecordState: z.string().max(64).optional(),
  GeneratorId: z.string().max(1024).optional(),
  Resources: z.array(resourceSchema).min(1).max(32),
});
const detailSchema = z.looseObject({ findings: z.array(findingSchema).min(1).max(100) });

const nhiName = z.string().min(1).max(2048).regex(/^[\w+=,.@:/-]+$/, 'an IAM user or role name or ARN');

/**
 * Security Hub (ASFF): a FAILED compliance finding on IAM resources, not suppressed nor archived,
 * reconciles each IAM user or role it names (an access key's user): one change per resource.
 */
export const securityHubSignal: SignalSource = {
  id: 'SecurityHubIamFinding',
  name: 'AWS Security Hub',
  bus: 'default',
  detailType: DETAIL_TYPE,
  pattern: { source: [SOURCE], 'detail-type': [DETAIL_TYPE], detail: { findings: { Resources: { Type: [...NHI_RESOURCE_TYPES] } } } },
  matches: (source, detailType) => source === SOURCE && detailType === DETAIL_TYPE,
  toTriggers(envelope: ProviderEnvelope): SignalResult {
    const parsed = detailSchema.safeParse(envelope.detail);
    if (!parsed.success) return invalid(parsed.error);
    const list: GovernanceEvent[] = [];
    const skipped: string[] = [];
    for (const finding of parsed.data.findings) {
      const why = notActionable(finding);
      if (why) {
        skipped.push(`${finding.Id}: ${why}`);
        continue;
      }
      const nhis = new Set<string>();
      for (const resource of finding.Resources) {
        const nhi = nhiOf(resource);
        if (nhi === undefined) continue;
        const checked = nhiName.safeParse(nhi);
        if (!checked.success) return invalid(checked.error, 'detail.findings.Resources');
        nhis.add(checked.data);
      }
      if (nhis.size === 0) skipped.push(`${finding.Id}: names no IAM user, role or access key`);
      const time = isoOrUndefined(envelope.time);
      for (const nhi of nhis) {
        list.push({
          id: `${SOURCE}:${finding.Id}:${finding.UpdatedAt}:${nhi}`,
          detailType: 'Reconcile Requested',
          source: 'nhigov',
          detail: { scope: { nhi } },
          ...(time ? { time } : {}),
          cause: causeOf(envelope, {
            type: finding.Compliance?.SecurityControlId ?? finding.GeneratorId ?? 'security-hub-finding',
            reference: finding.Id,
            subject: nhi,
            updatedAt: finding.UpdatedAt,
            ...(finding.Severity?.Label ? { severity: finding.Severity.Label } : {}),
            ...(finding.Title ? { title: finding.Title } : {}),
          }),
        });
      }
    }
    return list.length > 0 ? triggers(list) : ignored(`Security Hub: nothing to reconcile (${skipped.join('; ')})`);
  },
};

function notActionable(finding: z.infer<typeof findingSchema>): string | null {
  if (finding.Compliance?.Status !== 'FAILED') return `compliance ${finding.Compliance?.Status ?? 'not given'}, not FAILED`;
  if (finding.Workflow?.Status === 'SUPPRESSED') return 'suppressed';
  if (finding.RecordState === 'ARCHIVED') return 'archived';
  return null;
}

/** The user or role a resource is or belongs to; undefined for other resource types. */
function nhiOf(resource: z.infer<typeof resourceSchema>): string | undefined {
  if (resource.Type === 'AwsIamUser' || resource.Type === 'AwsIamRole') return resource.Id;
  if (resource.Type === 'AwsIamAccessKey') return resource.Details?.AwsIamAccessKey?.UserName ?? resource.Details?.AwsIamAccessKey?.PrincipalName;
  return undefined;
}
