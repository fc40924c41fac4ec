import { credentialStatusAction } from './user-credential.js';

/** Disables a user's signing certificate (reversible: reactivate). */
export const deactivateSigningCertificate = credentialStatusAction('signingCertificate', 'iam.deactivateSigningCertificate', 'Inactive', 'iam.reactivateSigningCertificate');
