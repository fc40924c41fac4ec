import { accessKeyStatusAction } from './access-key-status.js';

/** Re-enables an access key: the inverse of deactivation. */
export const reactivateAccessKey = accessKeyStatusAction('iam.reactivateAccessKey', 'Active', 'iam.deactivateAccessKey');
