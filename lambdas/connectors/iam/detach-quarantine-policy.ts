import { quarantineAction } from './quarantine-policy.js';

/** Lifts the quarantine deny-all: the inverse of attaching it. */
export const detachQuarantinePolicy = quarantineAction('iam.detachQuarantinePolicy', false, 'iam.attachQuarantinePolicy');
