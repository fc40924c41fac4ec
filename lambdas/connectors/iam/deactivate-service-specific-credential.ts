import { credentialStatusAction } from './user-credential.js';

/** Disables a user's service-specific credential (reversible: reactivate). */
export const deactivateServiceSpecificCredential = credentialStatusAction('serviceSpecificCredential', 'iam.deactivateServiceSpecificCredential', 'Inactive', 'iam.reactivateServiceSpecificCredential');
