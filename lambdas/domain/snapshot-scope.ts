import type { GovernanceEvent } from './events.js';

/** Which NHIs need per-identity detail (access keys, held keys): all, or those of one owner / one or more NHIs (name or ARN). */
export type SnapshotScope = { readonly all: true } | { readonly owner: string } | { readonly nhi: string } | { readonly nhis: readonly string[] };

/**
 * The part of the estate a trigger can touch: what Plan reads per identity. `keyOwner` is the
 * user of an exposed key the event names no user for (looked up by Plan; null when none has it).
 */
export function snapshotScopeFor(event: GovernanceEvent, keyOwner?: string | null): SnapshotScope {
  switch (event.detailType) {
    case 'Employee Terminated':
      return { owner: event.detail.email };
    case 'Owner Changed':
      return { nhi: event.detail.nhi };
    case 'Credential Exposed':
    {
      const nhi = event.detail.nhi ?? keyOwner;
      if (nhi && !event.detail.secretId) return { nhi };
      return { nhis: [...(nhi ? [nhi] : []), ...(event.detail.secretId ? [event.detail.secretId] : [])] };
    }
    case 'Reconcile Requested': {
      const scope = event.detail.scope;
      return scope === 'all' ? { all: true } : 'owner' in scope ? { owner: scope.owner } : { nhi: scope.nhi };
    }
    case 'Attestation Concluded':
      return { nhis: event.detail.nhis };
  }
}
