import { ServicesAndBuilds } from './0001-services-and-builds.ts';

/** Every migration, in order. Append only. */
export const migrations = [ServicesAndBuilds];
