import { FleetcastError } from '../errors/index.ts';

/** The hub's JetStream domain; a region may not use this name. */
export const hubDomain = 'hub';

/** The global goal bucket on the hub. */
export const goalBucket = 'goal';

/**
 * Service names are a single NATS subject token (no dots) and a DNS label: lower-case letter
 * first, then lower-case letters, digits and dashes, at most 63 characters.
 */
export const servicePattern = /^[a-z][a-z0-9-]{0,62}$/;

/** Region names, as FLEETCAST_REGIONS takes them; each is also the JetStream domain of its leaf. */
export const regionPattern = /^[a-z0-9-]+$/;

/**
 * Machine ids are one subject token, so no dots (write a host name `web-1.eu` as `web-1-eu`),
 * at most 128 characters.
 */
export const machinePattern = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

export function validateService(service: string): string {
  if (!servicePattern.test(service)) {
    throw new FleetcastError('INVALID_INPUT', `invalid service name ${JSON.stringify(service)}: use a lower-case letter, then lower-case letters, digits and dashes (at most 63 characters)`, { service });
  }
  return service;
}

export function validateRegion(region: string): string {
  if (!regionPattern.test(region) || region === hubDomain) {
    throw new FleetcastError('INVALID_INPUT', `invalid region name ${JSON.stringify(region)}: use lower-case letters, digits and dashes, and not "${hubDomain}" (the hub's domain)`, { region });
  }
  return region;
}

export function validateMachine(machine: string): string {
  if (!machinePattern.test(machine)) {
    throw new FleetcastError('INVALID_INPUT', `invalid machine id ${JSON.stringify(machine)}: use letters, digits, "_" and "-" (no dots; at most 128 characters)`, { machine });
  }
  return machine;
}

/** `goal-<region>`: the region's mirror of `goal`, on its leaf. */
export function goalMirrorBucket(region: string): string {
  return `${goalBucket}-${validateRegion(region)}`;
}

/** `status-<region>`: the agents' reports, on the region's leaf. */
export function statusBucket(region: string): string {
  return `status-${validateRegion(region)}`;
}

/** The JetStream stream behind a KV bucket. */
export function kvStream(bucket: string): string {
  return `KV_${bucket}`;
}

/** `<service>.<region>`: one goal per service and region, so waves and per-region rollbacks are natural. */
export function goalKey(service: string, region: string): string {
  return `${validateService(service)}.${validateRegion(region)}`;
}

/**
 * `<service>_prefetch.<region>`: a build a later wave of a deployment brings to the region, which
 * its agents fetch into their caches ahead of the goal (never run). In the goal bucket, so the
 * leaves mirror it and the agents' one watch of `*.<region>` sees it; `_` is in no service name.
 */
export function prefetchKey(service: string, region: string): string {
  return `${validateService(service)}${prefetchSuffix}.${validateRegion(region)}`;
}

const prefetchSuffix = '_prefetch';

/** What a key of the goal bucket holds: a goal, a prefetch hint, or neither (undefined). */
export function parseGoalBucketKey(key: string): { kind: 'goal' | 'prefetch'; service: string; region: string } | undefined {
  const parts = splitKey(key);
  if (!parts) return undefined;
  const [first, region] = parts;
  if (first.endsWith(prefetchSuffix)) return { kind: 'prefetch', service: first.slice(0, -prefetchSuffix.length), region };
  return { kind: 'goal', service: first, region };
}

/** `<service>.<machine>` in the region's status bucket. */
export function statusKey(service: string, machine: string): string {
  return `${validateService(service)}.${validateMachine(machine)}`;
}

/** Splits a two-token key; undefined when it is not one. */
export function splitKey(key: string): [string, string] | undefined {
  const parts = key.split('.');
  return parts.length === 2 ? [parts[0]!, parts[1]!] : undefined;
}
