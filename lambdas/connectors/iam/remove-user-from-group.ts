import { groupMembershipAction } from './group-membership.js';

/** Removes a user from a group (reversible: add it back). */
export const removeUserFromGroup = groupMembershipAction('iam.removeUserFromGroup', false, 'iam.addUserToGroup');
