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
  /** The cluster include (renderClusterConfig), relative; without it, a single hub server. */
  clusterFile?: string;
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
  /**
   * `nats-leaf://leaf:<password>@<hub host>:<hub leaf port>`; for a clustered hub every server's,
   * separated by commas: the link fails over between them.
   */
  hubLeafUrl: string;
  /** The file defining `FLEET_USERS` (ops/nats/users-config.ts renderLeafUsers), relative to the config's folder. */
  usersFile: string;
  /** TLS includes, relative: the client port's `tls {}`, and the link's (client certificate and CA). Without them, no TLS. */
  tlsFile?: string;
  leafTlsFile?: string;
  /** The cluster include (renderClusterConfig), relative; without it, a single leaf server. */
  clusterFile?: string;
}

export interface ClusterConfigValues {
  /** `hub`, or `leaf-<region>`: the servers of one cluster share it. */
  name: string;
  /** @defaultValue `127.0.0.1` */
  host?: string;
  /** This server's route port. */
  clusterPort: number;
  /** The other servers' routes, `nats-route://host:port`. */
  routes: string[];
  /** Mutual TLS on the routes (a `tls {}` block with `verify: true`), relative. Without it, no TLS. */
  routeTlsFile?: string;
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
    ...(values.clusterFile ? { CLUSTER_FILE: values.clusterFile } : {}),
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
    HUB_LEAF_URLS: values.hubLeafUrl.split(',').map((url) => url.trim()).filter(Boolean),
    USERS_FILE: values.usersFile,
    ...(values.tlsFile ? { TLS_FILE: values.tlsFile } : {}),
    ...(values.leafTlsFile ? { LEAF_TLS_FILE: values.leafTlsFile } : {}),
    ...(values.clusterFile ? { CLUSTER_FILE: values.clusterFile } : {}),
  });
}

/** The `cluster {}` block one server of a clustered hub or leaf includes. */
export function renderClusterConfig(values: ClusterConfigValues): string {
  if (!/^[A-Za-z0-9-]+$/.test(values.name)) throw new Error(`invalid cluster name ${JSON.stringify(values.name)}: use [A-Za-z0-9-]+`);
  if (values.routes.length === 0) throw new Error(`cluster ${values.name}: name the routes of the other servers`);
  return render('cluster.conf.template', {
    CLUSTER_NAME: values.name,
    HOST: values.host ?? '127.0.0.1',
    CLUSTER_PORT: String(values.clusterPort),
    ROUTES: values.routes,
    ...(values.routeTlsFile ? { ROUTE_TLS_FILE: values.routeTlsFile } : {}),
  });
}

const optionalIncludes = new Set(['TLS_FILE', 'LEAF_TLS_FILE', 'CLUSTER_FILE', 'ROUTE_TLS_FILE']);

/**
 * Fills `{{NAME}}` placeholders. Values land inside quoted config strings, so quotes,
 * backslashes and line breaks are refused rather than escaped: a password or a path with them
 * would silently change the meaning of the file.
 */
function render(template: string, values: Record<string, string | string[]>): string {
  for (const [name, value] of Object.entries(values)) {
    for (const item of [value].flat()) {
      if (/["\\\r\n]/.test(item)) throw new Error(`${template}: the value of ${name} contains a quote, backslash or line break`);
    }
  }
  // An include of a file not given (the TLS blocks of a cluster without TLS) is left out.
  const text = fs
    .readFileSync(projectFile('ops', 'nats', template), 'utf8')
    .replace(/^\s*include "\{\{([A-Z_]+)\}\}"\n/gm, (line, name: string) => (optionalIncludes.has(name) && values[name] === undefined ? '' : line));
  return text.replace(/\{\{([A-Z_]+)\}\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`${template}: no value for {{${name}}}`);
    // A list (routes, the hub's servers) goes into a `[ ]` of the template as quoted items.
    return Array.isArray(value) ? value.map((item) => `"${item}"`).join(', ') : value;
  });
}
