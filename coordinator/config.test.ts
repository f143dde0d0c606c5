import { describe, expect, it } from 'vitest';
import { loadCoordinatorConfig } from './config.ts';

describe('coordinator settings', () => {
  it('listens on 127.0.0.1:7070 by default, and takes host:port, [v6]:port and port 0', () => {
    expect(loadCoordinatorConfig({ env: {} }).FLEETCAST_LISTEN).toEqual({ host: '127.0.0.1', port: 7070 });
    expect(loadCoordinatorConfig({ env: { FLEETCAST_LISTEN: '0.0.0.0:80' } }).FLEETCAST_LISTEN).toEqual({ host: '0.0.0.0', port: 80 });
    expect(loadCoordinatorConfig({ env: { FLEETCAST_LISTEN: '[::1]:0' } }).FLEETCAST_LISTEN).toEqual({ host: '::1', port: 0 });
    expect(loadCoordinatorConfig({ env: {}, flags: { FLEETCAST_LISTEN: 'coordinator.internal:8080' } }).FLEETCAST_LISTEN).toEqual({
      host: 'coordinator.internal',
      port: 8080,
    });
  });

  it('refuses a bad address or a short webhook secret, naming the variable', () => {
    for (const listen of ['7070', 'localhost', 'localhost:99999', 'http://x:1']) {
      expect(() => loadCoordinatorConfig({ env: { FLEETCAST_LISTEN: listen } }), listen).toThrow(/FLEETCAST_LISTEN \(--listen\): must be host:port/);
    }
    expect(() => loadCoordinatorConfig({ env: { FLEETCAST_WEBHOOK_SECRET: 'short' } })).toThrow(/FLEETCAST_WEBHOOK_SECRET \(--webhook-secret\): use at least 16/);
  });
});
