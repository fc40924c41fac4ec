import { managedPolicyAction } from './managed-policy.js';

/** Re-attaches a managed policy: the inverse of detaching it. */
export const attachManagedPolicy = managedPolicyAction('iam.attachManagedPolicy', true, 'iam.detachManagedPolicy');
