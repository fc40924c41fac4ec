import { managedPolicyAction } from './managed-policy.js';

/** Detaches a managed policy from a user or role (reversible: re-attach). */
export const detachManagedPolicy = managedPolicyAction('iam.detachManagedPolicy', false, 'iam.attachManagedPolicy');
