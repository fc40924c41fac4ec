import { quarantineAction } from './quarantine-policy.js';

/** Puts the quarantine deny-all on a user or role (reversible: detach). */
export const attachQuarantinePolicy = quarantineAction('iam.attachQuarantinePolicy', true, 'iam.detachQuarantinePolicy');
