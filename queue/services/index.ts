export { ServiceRegistry, type ServiceUpdate } from './service-registry.ts';
export { serviceChange, serviceSpec, validateServiceChange, validateServiceName, validateServiceSpec, type Service, type ServiceChange, type ServiceSpec } from './service.ts';
export { redactRepoUrl, repoKind, repoUrlProblem, type RepoKind } from './repo-url.ts';
export { metricGateSpec, renderGateQuery, unknownPlaceholders, gatePlaceholders, type MetricGate, type GatePlaceholder } from './metric-gate.ts';
