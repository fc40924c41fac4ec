import { groupMembershipAction } from './group-membership.js';

/** Adds a user to a group: the inverse of removing it. */
export const addUserToGroup = groupMembershipAction('iam.addUserToGroup', true, 'iam.removeUserFromGroup');
