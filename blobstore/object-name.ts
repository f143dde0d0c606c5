import { FleetcastError } from '../errors/index.ts';

/**
 * Object names are relative paths made of plain segments. The rules are strict because the
 * filesystem store maps names to paths (no `..`, no absolute paths, no empty segments) and
 * because the stores keep their own bookkeeping under names that start with a dot, which
 * callers therefore cannot use.
 */
const segmentPattern = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
const maxNameLength = 1024;
const maxSegmentLength = 255;

export function validateObjectName(name: string): string {
  const problem = nameProblem(name);
  if (problem) {
    throw new FleetcastError('INVALID_INPUT', `invalid object name ${JSON.stringify(name)}: ${problem}`, { name });
  }
  return name;
}

/** For listings: names put in a bucket by other means are skipped rather than refused. */
export function isValidObjectName(name: string): boolean {
  return nameProblem(name) === undefined;
}

/** A list prefix may end in the middle of a segment (`artifacts/api/b4`) but follows the same rules. */
export function validateListPrefix(prefix: string): string {
  if (prefix === '') return prefix;
  // `artifacts/` is a fine prefix: check it as the name it starts.
  const problem = nameProblem(prefix.endsWith('/') ? prefix + 'x' : prefix);
  if (problem) {
    throw new FleetcastError('INVALID_INPUT', `invalid list prefix ${JSON.stringify(prefix)}: ${problem}`, { prefix });
  }
  return prefix;
}

function nameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return 'a name is required';
  if (name.length > maxNameLength) return `longer than ${maxNameLength} characters`;
  if (name.startsWith('/')) return 'absolute paths are not object names; drop the leading "/"';
  for (const segment of name.split('/')) {
    if (segment === '') return 'empty path segment ("//" or a trailing "/")';
    if (segment === '.' || segment === '..') return `"${segment}" segments are not allowed`;
    if (segment.length > maxSegmentLength) return `a segment is longer than ${maxSegmentLength} characters`;
    if (!segmentPattern.test(segment)) {
      return `segment "${segment}" must use only letters, digits, ".", "_" and "-", and not start with "."`;
    }
  }
  return undefined;
}
