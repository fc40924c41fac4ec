import { credentialStatusAction } from './user-credential.js';

/** Re-enables a user's SSH public key: the inverse of deactivation. */
export const reactivateSshPublicKey = credentialStatusAction('sshPublicKey', 'iam.reactivateSshPublicKey', 'Active', 'iam.deactivateSshPublicKey');
