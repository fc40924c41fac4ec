import { consoleContainmentAction } from './console-containment.js';

/** Contains a user's console password (reversible: release); finalize deletes the login profile after the grace period. */
export const containConsoleAccess = consoleContainmentAction('iam.containConsoleAccess', true, 'iam.releaseConsoleAccess');
