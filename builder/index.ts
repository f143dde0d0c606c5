export { runBuilder, type BuilderHandle, type BuilderOverrides } from './run.ts';
export { loadBuilderConfig, builderSettings, type BuilderConfig } from './config.ts';
export { createBuildHandler, type BuildJobOptions } from './build-job.ts';
export { GitMirror } from './git-mirror.ts';
export { BuildFailure } from './build-failure.ts';
