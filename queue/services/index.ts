export { ServiceRegistry } from './service-registry.ts';
export { serviceSpec, validateServiceName, validateServiceSpec, type Service, type ServiceSpec } from './service.ts';
