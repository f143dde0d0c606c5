export { ApiClient, type ApiClientOptions, type TextResponse } from './api-client.ts';
export { resolveClientConfig, defaultApiUrl, type ClientConfig, type ClientSettings } from './client-config.ts';
export { streamEvents, type EventStreamOptions } from './event-stream.ts';
