import { credentialStatusAction } from './user-credential.js';

/** Re-enables a user's signing certificate: the inverse of deactivation. */
export const reactivateSigningCertificate = credentialStatusAction('signingCertificate', 'iam.reactivateSigningCertificate', 'Active', 'iam.deactivateSigningCertificate');
