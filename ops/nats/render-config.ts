import fs from 'node:fs';
import { projectFile } from '../../lifecycle/project-files.ts';


export interface HubConfigValues {
  /** @defaultValue `hub` */
  serverName?: string;
  /** Interface every port listens on. @defaultValue `127.0.0.1` */
  host?: string;
  clientPort: number;
  leafPort: number;
  monitorPort: number;
  storeDir: string;
  /** The file defining `FLEET_USERS` (ops/nats/users-config.ts renderHubUsers), relative to the config's folder. */
  usersFile: string;
  /** TLS includes (LocalNatsCluster writes them), relative: the client port's `tls {}` and the leaf port's (mutual). Without them, no TLS. */
  tlsFile?: string;
  leafTlsFile?: string;
}

export interface LeafConfigValues {
  region: string;
  /** @defaultValue `leaf-<region>` */
  serverName?: string;
  /** @defaultValue `127.0.0.1` */
  host?: string;
  clientPort: number;
  monitorPort: number;
  storeDir: string;
  /** `nats-leaf://leaf:<password>@<hub host>:<hub leaf port>` */
  hubLeafUrl: string;
  /** The file defining `FLEET_USERS` (ops/nats/users-config.ts renderLeafUsers), relative to the config's folder. */
  usersFile: string;
  /** TLS includes, relative: the client port's `tls {}`, and the link's (client certificate and CA). Without them, no TLS. */
  tlsFile?: string;
  leafTlsFile?: string;
}

export function renderHubConfig(values: HubConfigValues): string {
  return render('hub.conf.template', {
    SERVER_NAME: values.serverName ?? 'hub',
    HOST: values.host ?? '127.0.0.1',
    CLIENT_PORT: String(values.clientPort),
    LEAF_PORT: String(values.leafPort),
    MONITOR_PORT: String(values.monitorPort),
    STORE_DIR: values.storeDir,
    USERS_FILE: values.usersFile,
    ...(values.tlsFile ? { TLS_FILE: values.tlsFile } : {}),
    ...(values.leafTlsFile ? { LEAF_TLS_FILE: values.leafTlsFile } : {}),
  });
}

export function renderLeafConfig(values: LeafConfigValues): string {
  if (!/^[a-z0-9-]+$/.test(values.region)) throw new Error(`invalid region name ${JSON.stringify(values.region)}: use [a-z0-9-]+`);
  if (values.region === 'hub') throw new Error('a region cannot be called "hub": that is the JetStream domain of the hub');
  return render('leaf.conf.template', {
    REGION: values.region,
    SERVER_NAME: values.serverName ?? `leaf-${values.region}`,
    HOST: values.host ?? '127.0.0.1',
    CLIENT_PORT: String(values.clientPort),
    MONITOR_PORT: String(values.monitorPort),
    STORE_DIR: values.storeDir,
    HUB_LEAF_URL: values.hubLeafUrl,
    USERS_FILE: values.usersFile,
    ...(values.tlsFile ? { TLS_FILE: values.tlsFile } : {}),
    ...(values.leafTlsFile ? { LEAF_TLS_FILE: values.leafTlsFile } : {}),
  });
}

const optionalIncludes = new Set(['TLS_FILE', 'LEAF_TLS_FILE']);

/**
 * Fills `{{NAME}}` placeholders. Values land inside quoted config strings, so quotes,
 * backslashes and line breaks are refused rather than escaped: a password or a path with them
 * would silently change the meaning of the file.
 */
function render(template: string, values: Record<string, string>): string {
  for (const [name, value] of Object.entries(values)) {
    if (/["\\\r\n]/.test(value)) throw new Error(`${template}: the value of ${name} contains a quote, backslash or line break`);
  }
  // An include of a file not given (the TLS blocks of a cluster without TLS) is left out.
  const text = fs
    .readFileSync(projectFile('ops', 'nats', template), 'utf8')
    .replace(/^\s*include "\{\{([A-Z_]+)\}\}"\n/gm, (line, name: string) => (optionalIncludes.has(name) && values[name] === undefined ? '' : line));
  return text.replace(/\{\{([A-Z_]+)\}\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`${template}: no value for {{${name}}}`);
    return value;
  });
}
