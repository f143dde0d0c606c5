export { ServiceRegistry } from './service-registry.ts';
export { serviceSpec, validateServiceName, validateServiceSpec, type Service, type ServiceSpec } from './service.ts';
export { redactRepoUrl, repoKind, repoUrlProblem, type RepoKind } from './repo-url.ts';
export { metricGateSpec, renderGateQuery, unknownPlaceholders, gatePlaceholders, type MetricGate, type GatePlaceholder } from './metric-gate.ts';
