import { credentialStatusAction } from './user-credential.js';

/** Re-enables a user's service-specific credential: the inverse of deactivation. */
export const reactivateServiceSpecificCredential = credentialStatusAction('serviceSpecificCredential', 'iam.reactivateServiceSpecificCredential', 'Active', 'iam.deactivateServiceSpecificCredential');
