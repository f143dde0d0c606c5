import { removedServiceJson, serviceJson, serviceListJson, type ServiceJson, type ServiceListJson } from '../../api-contract/index.ts';
import { redactRepoUrl, type Service } from '../../queue/services/index.ts';

export { removedServiceJson, serviceJson, serviceListJson, type ServiceJson, type ServiceListJson };

export function toServiceJson(service: Service): ServiceJson {
  const { buildEnv, ...shown } = service;
  // Build settings may hold registry tokens: their names only, to read tokens too.
  return { ...shown, repo: redactRepoUrl(service.repo), buildSettings: Object.keys(buildEnv).sort(), createdAt: service.createdAt.toISOString() };
}
