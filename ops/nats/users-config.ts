import { privateInboxPrefix, type NatsIdentity } from '../../trust/index.ts';

/**
 * The users of the FLEET account of each server, rendered into a file its config includes
 * (`FLEET_USERS: [...]`): NATS's own per-user permissions, one entry per identity, so a reload
 * after a revocation drops exactly the revoked machine. Password users are the servers' own
 * (the hub's leaf link, each leaf's admin) and, for tests without identities, the shared
 * `coordinator`/`agent` users of the first design.
 */
type Permissions = { publish: { allow: string[] }; subscribe: { allow: string[] } };
type User = ({ user: string; password: string } | { nkey: string }) & { permissions?: Permissions };

export interface HubUsers {
  leafPassword: string;
  /** A `coordinator` password user (clusters without identities). */
  coordinatorPassword?: string;
  identities: NatsIdentity[];
}

export interface LeafUsers {
  region: string;
  adminPassword: string;
  /** A shared `agent` password user that may write every status key of the region (clusters without identities). */
  agentPassword?: string;
  identities: NatsIdentity[];
}

export function renderHubUsers(values: HubUsers): string {
  const users: User[] = [
    // The regional leaf links. On a leaf connection "publish" is what the leaf may send to the
    // hub and "subscribe" what the hub may send to the leaf. Only allowed subjects pass: a region
    // can never write the global `goal` bucket — neither as $KV.goal.> (the server already drops
    // $KV.> between domains) nor as $JS.hub.API.$KV.goal.> (what a KV client on a leaf sends when
    // it "puts" to its mirror; without this list it reaches the hub), nor through the hub's
    // stream API (create/update/delete/purge).
    {
      user: 'leaf',
      password: values.leafPassword,
      permissions: {
        publish: {
          allow: [
            // the leaf's mirror of `goal` creates its consumer on the hub
            '$JS.hub.API.CONSUMER.CREATE.KV_goal',
            '$JS.hub.API.CONSUMER.CREATE.KV_goal.>',
            // flow-control answers of that mirror consumer
            '$JS.FC.>',
            // replies to the coordinator's requests and its status-watch deliveries
            '_INBOX.>',
            // leaf-node loop detection
            '$LDS.>',
          ],
        },
        subscribe: {
          allow: [
            // the coordinator manages and reads each region's buckets as $JS.<region>.API
            '$JS.*.API.>',
            // the mirror consumer's create reply and its deliveries
            '$JSC.R.>',
            '$JS.M.>',
            // flow-control answers of the coordinator's status watches
            '$JS.FC.>',
            '_INBOX.>',
            '$LDS.>',
          ],
        },
      },
    },
  ];
  // The coordinator writes the goal state, creates the buckets on the hub and (through
  // $JS.<region>.API) on every leaf, and reads each region's status bucket: the whole account.
  if (values.coordinatorPassword) users.push({ user: 'coordinator', password: values.coordinatorPassword });
  for (const identity of values.identities) if (identity.role === 'coordinator' && !identity.revokedAt) users.push({ nkey: identity.publicKey });
  return render(users);
}

export function renderLeafUsers(values: LeafUsers): string {
  const { region } = values;
  // Regional operations (debugging, repairs by hand): everything in this region's domain.
  const users: User[] = [{ user: 'admin', password: values.adminPassword }];
  if (values.agentPassword) users.push({ user: 'agent', password: values.agentPassword, permissions: agentPermissions(region, '*', '_INBOX') });
  for (const identity of values.identities) {
    if (identity.revokedAt || identity.region !== region) continue;
    const inbox = privateInboxPrefix(identity.publicKey);
    if (identity.role === 'agent') users.push({ nkey: identity.publicKey, permissions: agentPermissions(region, identity.machine, inbox) });
    if (identity.role === 'seeder') users.push({ nkey: identity.publicKey, permissions: goalReaderPermissions(region, inbox) });
  }
  return render(users);
}

/**
 * Read the region's goal mirror, nothing else: no stream or consumer management, no other
 * bucket, no hub API. The subscribe side keeps the mirror's stream advisories: a goal watch
 * starts anew when the stream is replaced. Replies and watch deliveries arrive under `inbox`
 * (the identity's own `_INBOX.<public key>`, which its connection uses): another machine's are
 * out of reach. Deleting consumers of the mirror stays allowed: the client library deletes its
 * own ordered consumer when a watch restarts or stops, and names them at random, so a narrower
 * rule would leave every restarted watch's consumer behind on the server for minutes; a machine
 * deleting another's watch only makes that watch start again (a delay, never a different goal).
 */
function goalReaderPermissions(region: string, inbox: string): Permissions {
  const stream = `KV_goal-${region}`;
  return {
    publish: {
      allow: [
        '$JS.API.INFO',
        `$JS.API.STREAM.INFO.${stream}`,
        `$JS.API.DIRECT.GET.${stream}`,
        `$JS.API.DIRECT.GET.${stream}.>`,
        `$JS.API.CONSUMER.CREATE.${stream}`,
        `$JS.API.CONSUMER.CREATE.${stream}.>`,
        `$JS.API.CONSUMER.DELETE.${stream}.>`,
        `$JS.FC.${stream}.>`,
      ],
    },
    subscribe: { allow: [`${inbox}.>`, `$JS.EVENT.ADVISORY.STREAM.*.${stream}`] },
  };
}

/** A goal reader that also writes status keys `<service>.<machine>`: of its own machine only (`*`: the shared user of every machine). */
function agentPermissions(region: string, machine: string, inbox: string): Permissions {
  const reader = goalReaderPermissions(region, inbox);
  return {
    publish: { allow: [...reader.publish.allow, `$JS.API.STREAM.INFO.KV_status-${region}`, `$KV.status-${region}.*.${machine}`] },
    subscribe: reader.subscribe,
  };
}

/** NATS config reads JSON: every value is quoted, so no key or subject can break out of its entry. */
function render(users: User[]): string {
  return `# Generated by fleetcast (ops/nats/users-config.ts) from the NATS identity registry; do not edit.\nFLEET_USERS: ${JSON.stringify(users, null, 2)}\n`;
}
