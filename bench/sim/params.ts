// The simulator's parameters, each with its default and where that default comes from:
// "code" = the shipped product default (read from the source named), "measured" = calibration
// (bench/sim/calibration.ts or bench/results/p2p.json), "assumed" = a datacenter figure stated
// in BENCHMARKS.md, not measured here.

export const MiB = 1024 ** 2;
export const GiB = 1024 ** 3;
/** Bytes per second of a link of `gbit` Gbit/s. */
export const gbit = (gbit: number): number => (gbit * 1e9) / 8;

/** How one peer behaves: the figures calibration measures on this code. */
export interface PeerCalibration {
  /** Seconds from joining the topic to the first block (DHT lookup, connect, first request). measured */
  timeToFirstByteS: number;
  /** Share of a capped link an agent's upload actually delivers to other agents (0–1). measured (fitted on a 4-machine swarm) */
  uploadEfficiency: number;
  /** Share of its capped upload a seeder delivers to one machine (0–1). measured (one machine, one seeder) */
  seederEfficiency: number;
  /** Bytes per second one agent can receive, verify (Merkle tree), store and hash, whatever its link. measured */
  verifyRate: number;
  /** Bytes per second a seeder turns its regional bucket's object into a signed core. measured */
  corePrepRate: number;
  /** Where the figures came from, for the report. */
  source: string;
}

export interface SimParams {
  machines: number;
  regions: number;
  /** Artifact bytes. */
  size: number;

  // --- build and replication
  /** The build itself (issue 10's budget: 15 min). assumed */
  buildS: number;
  /** Worker → main bucket upload, bytes/s (GCS put measured 172 MB/s here through the real client, production hosts faster). assumed */
  mainUploadRate: number;
  /** Main → regional bucket server-side copy, bytes/s per region (fake GCS measured ~1 GB/s on loopback). assumed */
  replicationRate: number;
  /** Planner + replicator claim + verify overhead before a copy counts DONE, seconds. assumed */
  replicationOverheadS: number;
  /** Regional bucket egress to its region's machines, bytes/s (GCS per-region bandwidth quota order). assumed */
  bucketEgress: number;

  // --- goal state and waves (coordinator/deploys, goalstate)
  /** Goal write on the hub → agents of a leaf see it, seconds (goalstate bench p99 21 ms at 300 watchers; fanout bench p99 0.9 s at 50,000 agents per server with republish, 5.3 s at 10,000 with one KV watch each). measured+assumed */
  goalPropagationS: number;
  /** Agent report → status view → wave runner round (progress every 1 s, runner every 1 s). code */
  gateDelayS: number;
  /** FLEETCAST_DEPLOY_WAVES: 'canary' | 'all'. code default canary */
  wavePlan: 'canary' | 'all';
  /**
   * A first wave of this share (percent) of the first region, `r0:S%;r0;rest` (with `canary`) —
   * the machines in it by the hash of coordinator/deploys (a share of the region's machines).
   * null: the canary is the whole first region. code default null (no share)
   */
  canaryShare: number | null;
  /** FLEETCAST_WAVE_SOAK, seconds. code default 0 */
  soakS: number;
  /** FLEETCAST_WAVE_MIN_DONE: share of a wave's live machines running the build before the next wave. code default 1 */
  minDoneFraction: number;
  /** FLEETCAST_DEPLOY_PREFETCH: later waves' machines fetch the build from the first wave's write on. code default true */
  prefetch: boolean;
  /** FLEETCAST_STATUS_SILENT_AFTER: a crashed machine stops holding its wave after this, seconds. code default 90 */
  silentAfterS: number;

  // --- seeders (edge-agent/seeder)
  seedersPerRegion: number;
  /** Seeder NIC upload, bytes/s. assumed 25 Gbit/s */
  seederUpload: number;
  /** FLEETCAST_SEEDER_SCAN_EVERY: a seeder finds a new bucket object (preheat) within this, seconds. code default 30 */
  seederScanS: number;
  /** FLEETCAST_SEEDER_PREHEAT > 0: seeders make cores of new bucket objects before any deploy. code default 2 (on) */
  preheat: boolean;

  // --- agents (edge-agent/p2p, edge-agent/fetch)
  /** Agent NIC download, bytes/s. assumed 10 Gbit/s */
  agentDownload: number;
  /** Agent NIC upload, bytes/s. assumed 10 Gbit/s */
  agentUpload: number;
  /** FLEETCAST_P2P_UPLOAD_LIMIT, bytes/s; null = none. code default none */
  uploadLimit: number | null;
  /** FLEETCAST_P2P_MAX_PEERS (agents and seeders). code default 64 */
  maxPeers: number;
  /** Blocks requested at once (P2PFetcher window). code default 8 */
  window: number;
  /** Requests in flight per peer (artifact-core.ts inflightRange). code default 2 */
  inflightPerPeer: number;
  /** Block size (goalstate/core-key.ts coreBlockSize). code 1 MiB */
  blockSize: number;
  /** Round trip inside a region, seconds. assumed 0.5 ms */
  rttS: number;
  /** FLEETCAST_AGENT_BUCKET_FALLBACK, seconds: a stall once the build's core was met. code default 30 */
  bucketFallbackS: number;
  /** FLEETCAST_AGENT_SEEDER_WAIT, seconds: the wait for a first peer holding the core (at least bucketFallbackS). code default 300 */
  seederWaitS: number;
  /** FLEETCAST_AGENT_BUCKET_RATE, bytes/s per agent. code default 100 MiB/s */
  bucketRatePerAgent: number;
  /** Install, switch and health check once the file is verified, seconds. assumed */
  installS: number;

  // --- faults
  /** Fraction of machines that crash during their download (churn). */
  churn: number;
  /** Fraction of machines on slow links (straggler). */
  stragglers: number;
  /** A straggler's link as a fraction of a normal one. assumed 0.1 */
  stragglerFactor: number;
  /** Regions (the last ones) whose buckets, replication and links run at slowRegionFactor. */
  slowRegions: number;
  slowRegionFactor: number;
  /** ± spread of machines' verify rate (hardware, load): a third at 1+s, 1, 1−s. assumed 0 */
  machineSpread: number;

  // --- product changes the code does not have (what-ifs, off by default)
  /** Seeders announce the core while they fill it and agents fetch its growing prefix. not in the code */
  streamingSeeders: boolean;
  /** The wave runner writes a wave only once its regions' seeders serve the build. not in the code */
  waveWaitsForSeeders: boolean;

  peer: PeerCalibration;
}

/**
 * Calibration used when no measurement is at hand (bench/results/*.json are not committed): the
 * figures bench/sim/calibration.ts measured on this project's 2-vCPU VM on 2026-12-03 (BENCHMARKS.md),
 * but the verify rate: one core ÷ an agent's CPU per MiB received (receiving, verifying, writing,
 * hashing and serving its peers) in bench/swarm's uncapped 4 × 256 MiB run on 2026-12-08, 12.8 ms.
 */
export const defaultCalibration: PeerCalibration = {
  timeToFirstByteS: 0.133,
  uploadEfficiency: 0.533,
  seederEfficiency: 1,
  verifyRate: 81.7e6,
  corePrepRate: 219e6,
  source: 'figures measured on 2026-12-03, verify rate on 2026-12-08 (params.ts defaultCalibration)',
};

/**
 * What one agent costs its region's NATS server, per way of following the goal. Not an input of
 * the transfer simulation (servers are not its bottleneck): the sizes of the leaf clusters the
 * simulated regions assume. measured (`npm run bench -- fanout`, 50,000 agents; BENCHMARKS.md, issue 21)
 */
export interface RegionServerCost {
  /** Server memory per agent, its own connection included, KiB. */
  memoryKiB: number;
  /** Server CPU to set one agent up (at start and after the server restarts), ms. */
  setupCpuMs: number;
  /** Server CPU per idle agent, cores. */
  idleCores: number;
  /** Server CPU of one agent's status writes at FLEETCAST_STATUS_INTERVAL (30 s), cores. */
  statusCores: number;
}

export const regionServerCost: { kvWatch: RegionServerCost; republish: RegionServerCost } = {
  /** One JetStream consumer per agent (today's agent). The naive server took only half the status rate: a lower bound. */
  kvWatch: { memoryKiB: 66.2, setupCpuMs: 1.5, idleCores: 2.1e-6, statusCores: 9.0e-6 },
  /** A core subscription to the republished goal subjects + a direct get at start (not in the agent yet). */
  republish: { memoryKiB: 21.6, setupCpuMs: 0.18, idleCores: 0.08e-6, statusCores: 4.5e-6 },
};

export function defaultParams(overrides: Partial<SimParams> = {}): SimParams {
  return {
    machines: 100_000,
    regions: 10,
    size: 10 * GiB,
    buildS: 15 * 60,
    mainUploadRate: 400e6,
    replicationRate: 500e6,
    replicationOverheadS: 5,
    bucketEgress: gbit(100),
    goalPropagationS: 1,
    gateDelayS: 2,
    wavePlan: 'canary',
    canaryShare: null,
    soakS: 0,
    prefetch: true,
    minDoneFraction: 1,
    silentAfterS: 90,
    seedersPerRegion: 2,
    seederUpload: gbit(25),
    seederScanS: 30,
    preheat: true,
    agentDownload: gbit(10),
    agentUpload: gbit(10),
    uploadLimit: null,
    maxPeers: 64,
    window: 8,
    inflightPerPeer: 2,
    blockSize: MiB,
    rttS: 0.0005,
    bucketFallbackS: 30,
    seederWaitS: 300,
    bucketRatePerAgent: 100 * MiB,
    installS: 5,
    churn: 0,
    stragglers: 0,
    stragglerFactor: 0.1,
    slowRegions: 0,
    slowRegionFactor: 0.25,
    machineSpread: 0,
    streamingSeeders: false,
    waveWaitsForSeeders: false,
    peer: defaultCalibration,
    ...overrides,
  };
}

const units: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, kib: 1024, m: 1e6, mb: 1e6, mib: MiB, g: 1e9, gb: 1e9, gib: GiB, t: 1e12, tb: 1e12, tib: 1024 ** 4 };

/** `10GiB`, `64MiB`, `500M` → bytes. */
export function parseBytes(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = match ? units[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) throw new Error(`not a size: ${JSON.stringify(text)} (write e.g. 10GiB, 64MiB, 500M)`);
  return Number(match[1]) * unit;
}

/** `10gbit`, `1.25GB` (per second) → bytes/s; a bare number is bytes/s. */
export function parseRate(text: string): number {
  const g = /^(\d+(?:\.\d+)?)\s*gbit$/i.exec(text.trim());
  if (g) return gbit(Number(g[1]));
  const m = /^(\d+(?:\.\d+)?)\s*mbit$/i.exec(text.trim());
  if (m) return (Number(m[1]) * 1e6) / 8;
  return parseBytes(text);
}

/** `30s`, `5m`, `90` (seconds) → seconds. */
export function parseSeconds(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|min|h)?$/.exec(text.trim());
  if (!match) throw new Error(`not a duration: ${JSON.stringify(text)} (write e.g. 30s, 5m)`);
  const factor = { ms: 0.001, s: 1, m: 60, min: 60, h: 3600 }[match[2] ?? 's']!;
  return Number(match[1]) * factor;
}
