// The coordinator's HTTP API as both sides see it: the JSON it answers with (zod schemas, from
// which GET /v1/openapi.json is generated, and their types), the /v1/events messages, token
// scopes and the on-behalf-of header. coordinator/api serves it; the CLI, the bot and
// `fleetcast demo` read it (through api-client/) without importing the coordinator.
export { buildJson, buildPageJson, regionReplicationJson, type BuildJson, type BuildPageJson } from './build-json.ts';
export { removedServiceJson, serviceJson, serviceListJson, type RemovedServiceJson, type ServiceJson, type ServiceListJson } from './service-json.ts';
export {
  waveJson,
  deploymentJson,
  deploymentListJson,
  lockJson,
  convergenceJson,
  deploymentProgressJson,
  serviceStatusJson,
  mirrorJson,
  type MirrorJson,
  type WaveJson,
  type DeploymentJson,
  type DeploymentListJson,
  type LockJson,
  type ConvergenceJson,
  type DeploymentProgressJson,
  type ServiceStatusJson,
} from './deployment-json.ts';
export { deployPreviewJson, commitJson, type DeployPreviewJson, type CommitJson } from './deploy-preview-json.ts';
export { errorJson, toErrorJson, type ErrorJson } from './error-json.ts';
export { whoamiJson, type WhoamiJson } from './whoami-json.ts';
export { slackRequestBody, slackRequestSeenJson, type SlackRequestBody, type SlackRequestSeenJson } from './slack-request-json.ts';
export { clientMessage, serverMessage, type ClientMessage, type ServerMessage } from './events.ts';
export { buildIdText, deploymentIdText } from './ids.ts';
export { scopes, grants, type Scope } from './scopes.ts';
export { onBehalfOfHeader } from './on-behalf-of.ts';
export { readSlackGrants, granteesOf, slackActions, slackSection, type SlackAction, type SlackGrants, type ServiceGrants } from './slack-grants.ts';
export { tokenSha256 } from './token-hash.ts';
export { auditEntryJson, auditPageJson, type AuditEntryJson, type AuditPageJson } from './audit-json.ts';
export { sessionJson, fleetStatusJson, machinePageJson, machineRowJson, type SessionJson, type FleetStatusJson, type MachinePageJson } from './dashboard-json.ts';
export { freezeJson, freezeListJson, checkRunJson, deliveryJson, type FreezeJson, type FreezeListJson, type CheckRunJson, type DeliveryJson } from './delivery-json.ts';
export { announcementPageJson, announcedActions, type AnnouncementPageJson } from './announcement-json.ts';
