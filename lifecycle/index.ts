// How long-running parts of every role wait, retry, repeat and stop: the one backoff formula,
// an abortable sleep, the periodic task loop and the teardown sequence of each role's run(); and
// where fleetcast's own files are, to start its processes (roles, log writers) and render configs.
export { backoffDelay, type Backoff } from './backoff.ts';
export { sleep } from './sleep.ts';
export { PeriodicTask } from './periodic-task.ts';
export { Teardown } from './teardown.ts';
export { projectFile } from './project-files.ts';
export { BuildSandbox, type SandboxKind, type SandboxLayout } from './build-sandbox.ts';
