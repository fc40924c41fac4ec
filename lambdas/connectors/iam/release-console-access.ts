import { consoleContainmentAction } from './console-containment.js';

/** Lifts the console containment: the inverse of containing it. */
export const releaseConsoleAccess = consoleContainmentAction('iam.releaseConsoleAccess', false, 'iam.containConsoleAccess');
