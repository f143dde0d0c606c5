// The architecture, checked by `npm test` (npm run check:deps). DESIGN.md's layout rule:
// a role never imports another role's folder; shared code lives in the lower folders; nothing
// outside test/ imports test/; no import cycles. A violation fails the run and names the import.
//
//   roles        coordinator/ builder/ edge-agent/ bot/        each deployable on its own
//   composers    cli/ (the fleetcast command), up/ (fleetcast up and demo), bin/
//   lower        errors/ logging/ config/ lifecycle/ trust/ entities/ queue/ blobstore/ goalstate/
//                api-contract/ api-client/                     shared by the roles, import no role
//   anything     test/ (and *.test.ts beside the code), bench/
//
// cli/ starts a role through the role's entry points only: its config.ts (the settings, for
// --help) statically, its main.ts (or demo-main.ts, replicator-main.ts) with a dynamic import,
// so `fleetcast build` loads no role and `fleetcast agent` loads only the agent. up/ runs roles as
// processes of the fleetcast command and imports none.

const roles = '(coordinator|builder|edge-agent|bot)';
const lower = '(errors|logging|config|lifecycle|trust|entities|queue|blobstore|goalstate|api-contract|api-client)';
/** The agent's P2P stack (Hyperswarm, Hypercore and their native parts): only edge-agent/ loads it. */
const p2pStack = 'node_modules/(hypercore|hyperswarm|hyperdht|corestore|hypercore-storage|rocksdb-native|udx-native)/';
const testCode = '(^test/|^bench/|\\.test\\.ts$)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'role-imports-another-role',
      comment: 'A role never imports another role (or cli/, up/): move what both need into a lower folder (DESIGN.md, Layout).',
      severity: 'error',
      from: { path: `^${roles}/`, pathNot: testCode },
      to: { path: `^(coordinator|builder|edge-agent|bot|cli|up)/`, pathNot: '^$1/' },
    },
    {
      name: 'lower-folder-imports-upward',
      comment: 'The lower folders are shared by every role: they import only each other, never a role, cli/, up/, bench/ or ops/.',
      severity: 'error',
      from: { path: `^${lower}/`, pathNot: testCode },
      to: { path: '^(coordinator|builder|edge-agent|bot|cli|up|bench|ops|bin)/' },
    },
    {
      name: 'product-imports-test',
      comment: 'Nothing outside test/ (and the *.test.ts files) imports test/: fixtures and fakes live in test/support/.',
      severity: 'error',
      from: { pathNot: testCode },
      to: { path: '^test/' },
    },
    {
      name: 'cli-reaches-into-a-role',
      comment: "cli/ starts a role through its config.ts (settings) and main.ts (dynamic import) only; shared client code is in api-client/.",
      severity: 'error',
      from: { path: '^cli/', pathNot: testCode },
      to: { path: `^(${roles.slice(1, -1)}|up)/`, pathNot: '^(coordinator|builder|bot|up)/(config|main|demo-main|replicator-main)\\.ts$|^edge-agent/(agent|seeder|dht)/(config|main)\\.ts$' },
    },
    {
      name: 'cli-loads-a-role-eagerly',
      comment: 'A role\'s main.ts is imported with `await import()`, so other commands do not load that role.',
      severity: 'error',
      from: { path: '^cli/', pathNot: testCode },
      to: { path: '(^|/)(main|demo-main|replicator-main)\\.ts$', dependencyTypesNot: ['dynamic-import'] },
    },
    {
      name: 'up-imports-a-role',
      comment: 'up/ runs every role as a process of the fleetcast command; it imports lower folders and ops/ only.',
      severity: 'error',
      from: { path: '^up/', pathNot: testCode },
      to: { path: `^(${roles.slice(1, -1)}|cli)/` },
    },
    {
      name: 'p2p-stack-outside-the-edge-agent',
      comment: 'Only the agent and seeder load Hyperswarm/Hypercore (~20 MiB per process): the coordinator, builders, the bot and the lower folders must not reach them.',
      severity: 'error',
      from: { path: `^(coordinator|builder|bot|${lower.slice(1, -1)})/`, pathNot: testCode },
      to: { path: p2pStack, reachable: true },
    },
    {
      name: 'no-cycles',
      comment: 'No import cycles (STYLE.md 4).',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that resolves to nothing (a moved file, a typo).',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // TypeScript 7 has no compiler API; swc parses the sources, and counts type-only imports too
    // (tsPreCompilationDeps would ask for the tsc API and only warn that it is missing).
    parser: 'swc',
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: false,
    doNotFollow: { path: 'node_modules' },
    // node_modules stays in the graph (not followed): the P2P rule looks for its packages there.
    exclude: { path: '^(bench/results|docs)/' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'], exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
