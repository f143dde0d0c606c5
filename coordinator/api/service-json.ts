import { serviceJson, serviceListJson, type ServiceJson, type ServiceListJson } from '../../api-contract/index.ts';
import type { Service } from '../../queue/services/index.ts';

export { serviceJson, serviceListJson, type ServiceJson, type ServiceListJson };

export function toServiceJson(service: Service): ServiceJson {
  return { ...service, createdAt: service.createdAt.toISOString() };
}
