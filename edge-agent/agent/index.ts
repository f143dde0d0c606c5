// The edge agent of one machine: reconcile its region's goals with what is installed and running.
export { runAgent, type AgentHandle, type AgentOverrides } from './run.ts';
export { loadAgentConfig, agentSettings, agentDir, type AgentConfig } from './config.ts';
export { Agent, type ServiceState } from './agent.ts';
export { AgentLayout } from './agent-layout.ts';
