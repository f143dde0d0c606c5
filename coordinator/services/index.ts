export { ServiceRegistry } from './service-registry.ts';
export { validateServiceName, validateServiceSpec, type Service, type ServiceSpec } from './service.ts';
