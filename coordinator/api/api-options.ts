import type { ServerCertificate } from '../../trust/index.ts';
import type { BuildLogSource } from './build-log-source.ts';

export interface ApiOptions {
  /** Interface to listen on. @defaultValue `127.0.0.1` (FLEETCAST_LISTEN) */
  host: string;
  /** 0 lets the OS choose (tests); the server's `url` tells which. @defaultValue 7070 (FLEETCAST_LISTEN) */
  port: number;
  /** HMAC secret of POST /v1/hooks/git; without it the webhook answers 404. @defaultValue none (FLEETCAST_WEBHOOK_SECRET) */
  webhookSecret?: string | undefined;
  /** Most bytes of a webhook body read before the signature is checked. @defaultValue 1 MiB (FLEETCAST_WEBHOOK_MAX_BODY) */
  webhookMaxBody?: number;
  /** Where build logs are read. @defaultValue {@link emptyBuildLog} */
  logs?: BuildLogSource;
  /** How long a dashboard sign-in lasts unused. @defaultValue 12 h (FLEETCAST_DASHBOARD_SESSION_TTL) */
  sessionTtlMs?: number;
  /** How often the one fleet-wide feed (dashboards) reads every service's status. @defaultValue 500 */
  fleetPollMs?: number;
  /** Set: the API and /v1/events speak only TLS (https://, wss://) with this certificate. @defaultValue none, plain HTTP (FLEETCAST_TLS_CERT / FLEETCAST_TLS_KEY) */
  tls?: ServerCertificate | null;
  /** How often each /v1/events subscription looks at its build. @defaultValue 300 */
  eventsPollMs?: number;
}
