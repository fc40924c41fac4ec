import { credentialStatusAction } from './user-credential.js';

/** Disables a user's SSH public key (reversible: reactivate). */
export const deactivateSshPublicKey = credentialStatusAction('sshPublicKey', 'iam.deactivateSshPublicKey', 'Inactive', 'iam.reactivateSshPublicKey');
