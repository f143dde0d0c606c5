import { describe, expect, it } from 'vitest';
import { renderClusterConfig, renderHubConfig, renderLeafConfig } from './render-config.ts';

const leaf = { region: 'eu', clientPort: 4223, monitorPort: 8223, storeDir: '/var/lib/nats/eu', usersFile: 'users.conf' };

describe('NATS configs for clusters', () => {
  it("a leaf's remote lists every hub server, so its link fails over between them", () => {
    const text = renderLeafConfig({ ...leaf, hubLeafUrl: 'nats-leaf://leaf:pw@10.0.0.1:7422,nats-leaf://leaf:pw@10.0.0.2:7422' });
    expect(text).toContain('urls: [ "nats-leaf://leaf:pw@10.0.0.1:7422", "nats-leaf://leaf:pw@10.0.0.2:7422" ]');
  });

  it('the cluster block names the other servers and includes route TLS; a single server has none', () => {
    const block = renderClusterConfig({ name: 'hub', clusterPort: 6222, routes: ['nats-route://10.0.0.2:6222', 'nats-route://10.0.0.3:6222'], routeTlsFile: 'route-tls.conf' });
    expect(block).toMatch(/cluster \{\n\s+name: hub\n\s+host: 127\.0\.0\.1\n\s+port: 6222/);
    expect(block).toContain('routes: [ "nats-route://10.0.0.2:6222", "nats-route://10.0.0.3:6222" ]');
    expect(block).toContain('include "route-tls.conf"');
    expect(renderClusterConfig({ name: 'leaf-eu', clusterPort: 6222, routes: ['nats-route://10.0.0.2:6222'] })).not.toContain('include "');

    const hub = { clientPort: 4222, leafPort: 7422, monitorPort: 8222, storeDir: '/var/lib/nats/hub', usersFile: 'users.conf' };
    expect(renderHubConfig({ ...hub, clusterFile: 'hub-1-cluster.conf' })).toContain('include "hub-1-cluster.conf"');
    expect(renderHubConfig(hub)).not.toMatch(/include "[^"]*cluster/);
    expect(renderLeafConfig({ ...leaf, hubLeafUrl: 'nats-leaf://leaf:pw@10.0.0.1:7422' })).not.toMatch(/include "[^"]*cluster/);
  });

  it('refuses a route that would break out of its quotes, and a cluster without routes', () => {
    expect(() => renderClusterConfig({ name: 'hub', clusterPort: 6222, routes: ['nats-route://x" ]\nauthorization {'] })).toThrow(/quote, backslash or line break/);
    expect(() => renderClusterConfig({ name: 'hub', clusterPort: 6222, routes: [] })).toThrow(/routes/);
  });
});
