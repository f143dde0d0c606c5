import path from 'node:path';
import { z } from 'zod';
import { FleetcastError } from '../../errors/index.ts';
import { metricGateSpec, type MetricGate } from './metric-gate.ts';
import { wavePlanProblem } from '../../goalstate/index.ts';
import { repoUrlProblem } from './repo-url.ts';

export interface Service {
  name: string;
  repo: string;
  branch: string;
  buildCommand: string;
  artifactPath: string;
  runCommand: string | null;
  /** Agents check it after switching to a new build (2xx = healthy); null: the process staying up is enough. */
  healthUrl: string | null;
  /** Builds may reach the network (fetch dependencies); false: a network namespace with nothing in it. */
  buildNetwork: boolean;
  /** Variables the build command gets besides FLEETCAST_* (the sandbox passes nothing else). */
  buildEnv: Record<string, string>;
  /** The PromQL gate its deploys' waves must pass during their soak (FLEETCAST_PROMETHEUS_URL set); null: agents' health only. */
  metricGate: MetricGate | null;
  /** The service's own wave plan (as FLEETCAST_DEPLOY_WAVES, shares allowed: `eu:1%;eu;us,ap`); null: the coordinator's. */
  wavePlan: string | null;
  /** Roll a failed wave back automatically: null follows FLEETCAST_DEPLOY_AUTO_ROLLBACK, true/false overrides it. */
  autoRollback: boolean | null;
  createdAt: Date;
}

// Service names end up in bucket object names, KV keys and directory names: keep them boring.
const serviceName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/, 'service names are 1–63 lower-case letters, digits and dashes, starting with a letter');

const artifactPath = z
  .string()
  .min(1)
  .max(1024)
  .refine(
    (value) => !path.isAbsolute(value) && !path.normalize(value).split(path.sep).includes('..'),
    'the artifact path is relative to the checkout and may not leave it',
  )
  // Agents keep the artifact under its own file name: it must be a plain one.
  .refine((value) => /^[A-Za-z0-9_][A-Za-z0-9._-]{0,254}$/.test(path.posix.basename(value)), 'the artifact file name may hold only letters, digits, ".", "_" and "-"');

// Names the sandbox sets itself (or that change how programs load) cannot be build settings.
const reservedBuildVariable = /^(PATH|HOME|TMPDIR|LD_.*|FLEETCAST_.*)$/;

const buildVariableName = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

const buildEnv = z
  .record(z.string(), z.string().max(4096))
  .superRefine((env, ctx) => {
    const names = Object.keys(env);
    if (names.length > 100) ctx.addIssue({ code: 'custom', message: 'at most 100 build settings' });
    for (const name of names) {
      if (!buildVariableName.test(name)) ctx.addIssue({ code: 'custom', message: `"${name}": build setting names are letters, digits and "_", not starting with a digit` });
      else if (reservedBuildVariable.test(name)) ctx.addIssue({ code: 'custom', message: `"${name}": PATH, HOME, TMPDIR, LD_* and FLEETCAST_* are set by the build sandbox` });
    }
  })
  .default({});

export const serviceSpec = z.object({
  name: serviceName,
  repo: z
    .string()
    .min(1, 'give the repository URL or path')
    .max(1024)
    .refine((repo) => repoUrlProblem(repo) === null, { error: (issue) => repoUrlProblem(String(issue.input)) ?? 'invalid repository' }),
  branch: z
    .string()
    .min(1)
    .max(255)
    .regex(/^[A-Za-z0-9._\/-]+(,[A-Za-z0-9._\/-]+)*$/, 'branch names (several separated by commas) are letters, digits, ".", "_", "/" and "-"')
    .default('main'),
  buildCommand: z.string().trim().min(1, 'give the command that builds the service'),
  artifactPath,
  runCommand: z.string().trim().min(1).max(4000).nullable().default(null),
  healthUrl: z.url({ protocol: /^https?$/, error: 'the health URL must be an http(s) URL' }).max(2000).nullable().default(null),
  buildNetwork: z.boolean().default(true),
  buildEnv,
  metricGate: metricGateSpec.nullable().default(null),
  wavePlan: z
    .string()
    .trim()
    .min(1)
    .max(1000)
    .refine((plan) => wavePlanProblem(plan) === null, { error: (issue) => wavePlanProblem(String(issue.input).trim()) ?? 'invalid wave plan' })
    .nullable()
    .default(null)
    .meta({ description: 'its own wave plan, as FLEETCAST_DEPLOY_WAVES (canary, all, or waves such as eu:1%;eu;us,ap); null: the coordinator\'s' }),
  autoRollback: z.boolean().nullable().default(null).meta({ description: 'roll a failed wave back automatically; null: as FLEETCAST_DEPLOY_AUTO_ROLLBACK' }),
});

export type ServiceSpec = z.input<typeof serviceSpec>;

/**
 * The fields `service update` may change: any of a service's settings but its name and
 * repository (the repository names the builds' mirror; a new one is a new service). Absent
 * fields keep their value; null clears the run command or health URL. New settings of
 * `service add` belong here too, so update stays generic.
 */
export const serviceChange = serviceSpec
  .omit({ name: true, repo: true })
  .extend({
    // No defaults: an absent field means "unchanged", not "back to the default".
    branch: serviceSpec.shape.branch.removeDefault(),
    runCommand: serviceSpec.shape.runCommand.removeDefault(),
    healthUrl: serviceSpec.shape.healthUrl.removeDefault(),
    buildNetwork: serviceSpec.shape.buildNetwork.removeDefault(),
    buildEnv: serviceSpec.shape.buildEnv.removeDefault(),
    wavePlan: serviceSpec.shape.wavePlan.removeDefault(),
    autoRollback: serviceSpec.shape.autoRollback.removeDefault(),
    metricGate: serviceSpec.shape.metricGate.removeDefault(),
  })
  .partial();

export type ServiceChange = z.input<typeof serviceChange>;

export function validateServiceChange(change: ServiceChange): z.output<typeof serviceChange> {
  const result = serviceChange.safeParse(change);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || 'service'}: ${issue.message}`);
    throw new FleetcastError('INVALID_INPUT', `invalid service change: ${problems.join('; ')}`, { problems });
  }
  return result.data;
}

export function validateServiceName(name: string): string {
  const result = serviceName.safeParse(name);
  if (!result.success) {
    throw new FleetcastError('INVALID_INPUT', `"${name}" is not a service name: ${result.error.issues[0]!.message}`, { service: name });
  }
  return result.data;
}

export function validateServiceSpec(spec: ServiceSpec): z.output<typeof serviceSpec> {
  const result = serviceSpec.safeParse(spec);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || 'service'}: ${issue.message}`);
    throw new FleetcastError('INVALID_INPUT', `invalid service: ${problems.join('; ')}`, { problems });
  }
  return result.data;
}
