export { loadConfig, type ConfigSources } from './load-config.ts';
export { settings, settingHelp, settingDefaultText, flagName, defaultDhtAddress, type SettingDefinition, type SettingName, type SettingValues } from './settings.ts';
export { durationMs, durationOrZeroMs, formatDuration, humanDuration } from './duration.ts';
export { byteSize, formatBytes } from './byte-size.ts';
export { loadClusterSecret, clusterSecretPath } from './cluster-secret.ts';
export { readPermissionsJson, permissionsFileError } from './permissions-json.ts';
export { lowMemoryEnv, startedWithLowMemoryEnv, warnUnlessLowMemoryEnv } from './process-memory.ts';
export { ensurePrivateDir, ensureTraversableDir, tightenSecretFile, type Tightened } from './private-files.ts';
