import fs from 'node:fs';
import type { Logger } from '../../logging/index.ts';
import type { AgentLayout } from './agent-layout.ts';
import type { InstalledBuild } from './build-cache.ts';
import { logTail } from './log-tail.ts';
import { ProcessSupervisor, type ProcessSupervisorOptions, type RunSpec } from './process-supervisor.ts';
import { openBuildPath, type ServiceUser } from './service-user.ts';
import { serviceEnvironment, type Activation, type RunnerEvent, type ServiceIdentity, type ServiceRunner } from './service-runner.ts';

/** The supervisor's timings and callbacks (the pid file's place comes from the layout), and log rotation. */
export type SupervisedRunnerOptions = Omit<ProcessSupervisorOptions, 'recordFile' | 'logger' | 'onExit' | 'onRestart'> & {
  /** Rotate each build's log: files of `maxBytes`, `keep` of them. Unset: one file, unbounded. */
  log?: RunSpec['log'];
  /** Run commands run as this user (FLEETCAST_SERVICE_USER); null or unset: as the agent's. */
  serviceUser?: ServiceUser | null;
};

/**
 * Runs the goal's run command itself: through the shell in the build's directory, in its own
 * process group, restarted when it exits. A goal without a run command is install only.
 */
export class SupervisedRunner implements ServiceRunner {
  private readonly supervisor: ProcessSupervisor;
  private listener: ((event: RunnerEvent) => void) | undefined;
  private lastExit = '';

  constructor(
    private readonly identity: ServiceIdentity,
    private readonly layout: AgentLayout,
    private readonly options: SupervisedRunnerOptions,
    logger: Logger,
  ) {
    this.supervisor = new ProcessSupervisor({
      ...options,
      recordFile: layout.processRecord(identity.service),
      logger,
      onExit: (exit, restartInMs) => {
        this.lastExit = exit.description;
        this.listener?.({ type: 'exited', build: exit.build, description: exit.description, restartInMs });
      },
      onRestart: (run, restarts) => this.listener?.({ type: 'restarted', build: run.build, restarts, lastExit: this.lastExit }),
    });
  }

  async restore(current: InstalledBuild | null): Promise<void> {
    if (!current || current.goal.runCommand === null) {
      await this.supervisor.stop();
      return;
    }
    const spec = this.spec(current);
    if (!(await this.supervisor.adopt(spec))) await this.supervisor.start(spec);
  }

  async deactivate(): Promise<void> {
    await this.supervisor.stop();
  }

  async activate(build: InstalledBuild): Promise<Activation> {
    if (build.goal.runCommand === null) {
      await this.supervisor.stop();
      return { exited: null };
    }
    const run = await this.supervisor.start(this.spec(build));
    return { exited: run.exited };
  }

  watch(listener: (event: RunnerEvent) => void): void {
    this.listener = listener;
  }

  async lastLines(build: string): Promise<string> {
    // The output goes through a pipe to the log writer: once the process is gone, let the
    // writer put down what it said last (a running one's lines are read as they are).
    if (this.supervisor.running?.build !== build) await this.supervisor.outputWritten();
    return logTail(this.layout.logFile(this.identity.service, build));
  }

  logLocation(build: string): string | undefined {
    const file = this.layout.logFile(this.identity.service, build);
    return fs.existsSync(file) ? file : undefined;
  }

  async close(options: { stopServices: boolean }): Promise<void> {
    if (options.stopServices) await this.supervisor.stop();
    else await this.supervisor.detach();
  }

  private spec(build: InstalledBuild): RunSpec {
    const { goal } = build;
    const user = this.options.serviceUser;
    if (user) openBuildPath(this.layout, this.identity.service, goal.build, build.file);
    return {
      build: goal.build,
      dir: build.dir,
      command: goal.runCommand!,
      env: serviceEnvironment(this.identity, goal.build),
      logFile: this.layout.logFile(this.identity.service, goal.build),
      ...(this.options.log ? { log: this.options.log } : {}),
      ...(user ? { user: { uid: user.uid, gid: user.gid } } : {}),
    };
  }
}
