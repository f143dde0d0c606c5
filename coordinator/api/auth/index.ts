export { scopes, grants, type Scope } from './scopes.ts';
export { TokenStore, type ApiToken, type Principal } from './token-store.ts';
export { ensureLocalToken, localTokenPath, localAdminName } from './local-token.ts';
export { readPermissionsFile, permissionsFile } from './permissions-file.ts';
export { authenticate, presentedToken, requireScope } from './authenticate.ts';
export { actingPrincipal, actorOf, onBehalfOfHeader } from './on-behalf-of.ts';
