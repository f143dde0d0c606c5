export { runCoordinator, type CoordinatorHandle, type CoordinatorOverrides } from './run.ts';
export { loadCoordinatorConfig, coordinatorSettings, type CoordinatorConfig } from './config.ts';
export * from './queue/index.ts';
export { ServiceRegistry, type Service, type ServiceSpec } from './services/index.ts';
