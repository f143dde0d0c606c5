export { ApiServer } from './api-server.ts';
export type { ApiOptions } from './api-options.ts';
export type { ApiContext } from './api-context.ts';
export { emptyBuildLog, type BuildLogSource, type LogChunk } from './build-log-source.ts';
export { toBuildJson, type BuildJson, type BuildPageJson } from './build-json.ts';
export { toServiceJson, type ServiceJson, type ServiceListJson } from './service-json.ts';
export {
  toDeploymentJson,
  type DeploymentJson,
  type DeploymentListJson,
  type DeploymentProgressJson,
  type ConvergenceJson,
  type WaveJson,
  type LockJson,
  type ServiceStatusJson,
} from './deployment-json.ts';
export type { ErrorJson } from './error-json.ts';
export type { WhoamiJson } from './routes/whoami.ts';
export type { ClientMessage, ServerMessage } from './events/messages.ts';
export { signBody } from './webhook/signature.ts';
export {
  TokenStore,
  tokenSha256,
  ServiceAccess,
  SlackGroupMembers,
  PermissionsReloader,
  warnPlaintext,
  ensureLocalToken,
  localTokenPath,
  localAdminName,
  readPermissionsFile,
  onBehalfOfHeader,
  scopes,
  grants,
  type ApiToken,
  type Principal,
  type Scope,
} from './auth/index.ts';
