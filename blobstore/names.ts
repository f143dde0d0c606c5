import { FleetcastError } from '../errors/index.ts';

/** DESIGN.md: buckets are `<prefix>-main` and `<prefix>-<region>`. */
export const defaultBucketPrefix = 'fleetcast';

const bucketPattern = /^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$/;
const prefixPattern = /^[a-z0-9][a-z0-9-]*$/;
const regionPattern = /^[a-z0-9-]+$/;
const servicePattern = /^[a-z][a-z0-9-]{0,62}$/;
const digestPattern = /^[0-9a-f]{64}$/;

/**
 * Bucket names valid both as GCS bucket names and as directory names: 3–63 lower-case letters,
 * digits, `-` and `_`, starting and ending with a letter or digit (no dots, so never `..`).
 */
export function validateBucketName(bucket: string): string {
  if (typeof bucket !== 'string' || !bucketPattern.test(bucket)) {
    throw new FleetcastError(
      'INVALID_INPUT',
      `invalid bucket name ${JSON.stringify(bucket)}: use 3 to 63 lower-case letters, digits, "-" and "_", starting and ending with a letter or digit`,
      { bucket },
    );
  }
  return bucket;
}

/** The bucket builders upload to: `<prefix>-main`. */
export function mainBucketName(prefix: string = defaultBucketPrefix): string {
  return validateBucketName(`${validatePrefix(prefix)}-main`);
}

/** The bucket a region's seeders read from: `<prefix>-<region>`. */
export function regionBucketName(region: string, prefix: string = defaultBucketPrefix): string {
  if (typeof region !== 'string' || !regionPattern.test(region)) {
    throw new FleetcastError('INVALID_INPUT', `invalid region ${JSON.stringify(region)}: region names are lower-case letters, digits and dashes`, {
      region,
    });
  }
  if (region === 'main') {
    // `<prefix>-main` is the main bucket: a region of that name would share it.
    throw new FleetcastError('INVALID_INPUT', 'a region cannot be called "main": its bucket would be the main bucket; rename the region', {
      region,
    });
  }
  return validateBucketName(`${validatePrefix(prefix)}-${region}`);
}

function validatePrefix(prefix: string): string {
  if (typeof prefix !== 'string' || !prefixPattern.test(prefix)) {
    throw new FleetcastError(
      'INVALID_INPUT',
      `invalid bucket prefix ${JSON.stringify(prefix)} (FLEETCAST_BUCKET_PREFIX): use lower-case letters, digits and "-", starting with a letter or digit`,
      { prefix },
    );
  }
  return prefix;
}

/**
 * Where a build's artifact lives: `artifacts/<service>/b<id>/<sha256>`. Names come from the
 * build record, never from user text, and every part is checked, so a name can never point
 * outside its folder.
 */
export function artifactObjectName(service: string, buildId: number | string, digest: string): string {
  if (typeof digest !== 'string' || !digestPattern.test(digest)) {
    throw new FleetcastError('INVALID_INPUT', `"${digest}" is not a sha256 digest (64 lower-case hex characters)`, { digest });
  }
  return `artifacts/${validateService(service)}/b${buildNumber(buildId)}/${digest}`;
}

/** The parts of an artifact's object name; undefined for any other name. */
export function parseArtifactObjectName(name: string): { service: string; buildId: number; digest: string } | undefined {
  const match = /^artifacts\/([^/]+)\/b([1-9]\d{0,15})\/([0-9a-f]{64})$/.exec(name);
  if (!match || !servicePattern.test(match[1]!) || !Number.isSafeInteger(Number(match[2]))) return undefined;
  return { service: match[1]!, buildId: Number(match[2]), digest: match[3]! };
}

/** Where a build's log lives: `logs/<service>/b<id>.log`. */
export function logObjectName(service: string, buildId: number | string): string {
  return `logs/${validateService(service)}/b${buildNumber(buildId)}.log`;
}

function validateService(service: string): string {
  if (typeof service !== 'string' || !servicePattern.test(service)) {
    throw new FleetcastError(
      'INVALID_INPUT',
      `invalid service name ${JSON.stringify(service)}: start with a lower-case letter, then up to 62 lower-case letters, digits and "-"`,
      { service },
    );
  }
  return service;
}

/** Accepts 42, "42" or "b42", as build ids are written elsewhere. */
function buildNumber(buildId: number | string): number {
  const match = /^b?([1-9]\d{0,15})$/.exec(String(buildId));
  const id = match ? Number(match[1]) : NaN;
  if (!Number.isSafeInteger(id)) {
    throw new FleetcastError('INVALID_INPUT', `"${buildId}" is not a build id; build ids look like b42`, { buildId });
  }
  return id;
}
