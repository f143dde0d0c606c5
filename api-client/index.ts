// The coordinator's HTTP API from the client's side: requests, the /v1/events stream, and where
// a client finds the coordinator and its token. Shared by cli/, bot/ and up/ (the demo).
export { ApiClient, type ApiClientOptions, type TextResponse } from './api-client.ts';
export { resolveClientConfig, defaultApiUrl, type ClientConfig, type ClientSettings } from './client-config.ts';
export { streamEvents, type EventStreamOptions } from './event-stream.ts';
