export { SlackPermissions } from './slack-permissions.ts';
export { readSlackGrants, slackActions, slackSection, type SlackAction, type SlackGrants, type ServiceGrants } from '../../api-contract/index.ts';
export { UsergroupMembers, type UsergroupMembersOptions, type MembersLookup } from './usergroup-members.ts';
