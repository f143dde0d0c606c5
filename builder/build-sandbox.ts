// The sandbox moved to lifecycle/ so the coordinator's pre-deploy checks run in the same one (issue 23).
export { BuildSandbox, type SandboxKind, type SandboxLayout } from '../lifecycle/build-sandbox.ts';
