import { accessKeyStatusAction } from './access-key-status.js';

/** Disables an access key (reversible: reactivate). Deleting it is finalize's job. */
export const deactivateAccessKey = accessKeyStatusAction('iam.deactivateAccessKey', 'Inactive', 'iam.reactivateAccessKey');
