import { parseBytes, parseRate, parseSeconds, type PeerCalibration, type SimParams } from './params.ts';

type Parser = (value: string) => Partial<SimParams>;

const num = (key: keyof SimParams): Parser => (v) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${flagOf(key)} wants a number ≥ 0, got ${JSON.stringify(v)}`);
  return { [key]: n } as Partial<SimParams>;
};
const bytes = (key: keyof SimParams): Parser => (v) => ({ [key]: parseBytes(v) }) as Partial<SimParams>;
const rate = (key: keyof SimParams): Parser => (v) => ({ [key]: parseRate(v) }) as Partial<SimParams>;
const seconds = (key: keyof SimParams): Parser => (v) => ({ [key]: parseSeconds(v) }) as Partial<SimParams>;

function flagOf(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Flags of `bench/sim/main.ts`, each one parameter of params.ts. */
export const simFlags: Record<string, { parse: Parser; help: string }> = {
  machines: { parse: num('machines'), help: 'machines in the fleet (default 100000)' },
  regions: { parse: num('regions'), help: 'regions, machines spread evenly (default 10)' },
  size: { parse: bytes('size'), help: 'artifact size, e.g. 10GiB (default 10GiB)' },
  'seeders-per-region': { parse: num('seedersPerRegion'), help: 'seeders in each region (default 2)' },
  'seeder-upload': { parse: rate('seederUpload'), help: "a seeder's upload, e.g. 25gbit (default 25gbit)" },
  'agent-link': { parse: (v) => ({ agentDownload: parseRate(v), agentUpload: parseRate(v) }), help: "an agent's link both ways (default 10gbit)" },
  'upload-limit': { parse: rate('uploadLimit'), help: 'FLEETCAST_P2P_UPLOAD_LIMIT (default none)' },
  'max-peers': { parse: num('maxPeers'), help: 'FLEETCAST_P2P_MAX_PEERS (default 64)' },
  'bucket-fallback': { parse: seconds('bucketFallbackS'), help: 'FLEETCAST_AGENT_BUCKET_FALLBACK (default 30s)' },
  'seeder-wait': { parse: seconds('seederWaitS'), help: 'FLEETCAST_AGENT_SEEDER_WAIT (default 5m)' },
  'bucket-rate': { parse: rate('bucketRatePerAgent'), help: 'FLEETCAST_AGENT_BUCKET_RATE per agent (default 100MiB)' },
  'bucket-egress': { parse: rate('bucketEgress'), help: "a regional bucket's egress (default 100gbit)" },
  'replication-rate': { parse: rate('replicationRate'), help: 'main → regional copy per region (default 500M)' },
  waves: { parse: (v) => ({ wavePlan: v === 'all' ? 'all' : 'canary' }), help: 'FLEETCAST_DEPLOY_WAVES: canary | all (default canary)' },
  'canary-share': {
    parse: (v) => {
      const share = Number(v);
      if (!(share > 0 && share < 100)) throw new Error(`--canary-share wants a percentage above 0 and below 100, got ${JSON.stringify(v)}`);
      return { canaryShare: share };
    },
    help: 'a first wave of this share (%) of the first region: waves r0:S%;r0;rest (default: the whole first region)',
  },
  soak: { parse: seconds('soakS'), help: 'FLEETCAST_WAVE_SOAK (default 0s)' },
  'min-done': { parse: num('minDoneFraction'), help: "FLEETCAST_WAVE_MIN_DONE: share of a wave's machines running the build before the next wave (default 1)" },
  'no-prefetch': { parse: () => ({ prefetch: false }), help: "FLEETCAST_DEPLOY_PREFETCH=false: later waves' machines fetch only when their wave comes" },
  'no-preheat': { parse: () => ({ preheat: false }), help: 'FLEETCAST_SEEDER_PREHEAT=0: seeders make cores only for goals' },
  churn: { parse: num('churn'), help: 'fraction of machines crashing during their download (default 0)' },
  stragglers: { parse: num('stragglers'), help: 'fraction of machines on slow links (default 0)' },
  'straggler-factor': { parse: num('stragglerFactor'), help: "a straggler's link as a fraction of a normal one (default 0.1)" },
  'slow-regions': { parse: num('slowRegions'), help: 'regions whose buckets and links run slow (default 0)' },
  'slow-factor': { parse: num('slowRegionFactor'), help: 'their speed as a fraction (default 0.25)' },
  'what-if-streaming-seeders': { parse: () => ({ streamingSeeders: true }), help: 'product change not in the code: seeders serve the core while filling it' },
  'what-if-wave-waits-for-seeders': { parse: () => ({ waveWaitsForSeeders: true }), help: 'product change not in the code: a wave is written once its seeders serve' },
  'machine-spread': { parse: num('machineSpread'), help: "± spread of machines' verify rate, e.g. 0.15 (default 0)" },
  build: { parse: seconds('buildS'), help: 'the build itself (default 15m)' },
};

/** Flags without a value. */
const switches = new Set(['no-preheat', 'no-prefetch', 'what-if-streaming-seeders', 'what-if-wave-waits-for-seeders']);

/** Flags that change a calibrated per-peer figure (the rest of the calibration stays as measured). */
export const peerFlags: Record<string, { key: keyof PeerCalibration; parse: (v: string) => number; help: string }> = {
  'verify-rate': { key: 'verifyRate', parse: parseRate, help: 'bytes/s one agent verifies and stores (calibrated)' },
  'upload-efficiency': { key: 'uploadEfficiency', parse: Number, help: 'share of its upload an agent delivers to agents, 0–1 (calibrated)' },
  'core-prep-rate': { key: 'corePrepRate', parse: parseRate, help: 'bytes/s a seeder makes a core from its bucket (calibrated)' },
  'first-byte': { key: 'timeToFirstByteS', parse: parseSeconds, help: 'join → first block, seconds (calibrated)' },
};

export function parseSimArgs(args: string[]): { overrides: Partial<SimParams>; peer: Partial<PeerCalibration>; json: boolean; help: boolean } {
  let overrides: Partial<SimParams> = {};
  const peer: Partial<PeerCalibration> = {};
  let json = false;
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--json') json = true;
    else if (arg === '--help' || arg === '-h') help = true;
    else if (arg.startsWith('--')) {
      const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
      const peerFlag = peerFlags[name];
      if (peerFlag) {
        const value = inline ?? args[++i];
        if (value === undefined) throw new Error(`--${name} needs a value`);
        const n = peerFlag.parse(value);
        if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} wants a positive number, got ${JSON.stringify(value)}`);
        (peer as Record<string, number>)[peerFlag.key] = n;
        continue;
      }
      const flag = simFlags[name];
      if (!flag) throw new Error(`unknown flag --${name}; see --help`);
      const value = switches.has(name) ? '' : (inline ?? args[++i]);
      if (value === undefined) throw new Error(`--${name} needs a value`);
      overrides = { ...overrides, ...flag.parse(value) };
    } else throw new Error(`unexpected argument ${JSON.stringify(arg)}; see --help`);
  }
  return { overrides, peer, json, help };
}
