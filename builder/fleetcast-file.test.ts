import { describe, expect, it } from 'vitest';
import { parseFleetcastFile, storedSections } from './fleetcast-file.ts';

describe('fleetcast.yml', () => {
  it('reads every section; waves, windows and gates are kept as written', () => {
    const file = parseFleetcastFile(
      [
        'version: 1',
        'build: make release',
        'artifact: out/api',
        'run: ./api --port 8080',
        'health: http://127.0.0.1:8080/healthz',
        'waves: [[eu], [us, ap]]',
        'windows:',
        '  - deny: "Fri 16:00 - Mon 08:00"',
        '    zone: Europe/Paris',
        'gates:',
        '  - url: https://status.example.com/ok',
        '  - command: ./check.sh',
        '    name: smoke',
      ].join('\n'),
    );
    expect(file).toMatchObject({ build: 'make release', artifact: 'out/api', run: './api --port 8080', health: 'http://127.0.0.1:8080/healthz' });
    expect(storedSections(file)).toEqual({
      waves: [['eu'], ['us', 'ap']],
      windows: [{ deny: 'Fri 16:00 - Mon 08:00', zone: 'Europe/Paris' }],
      gates: [{ url: 'https://status.example.com/ok' }, { command: './check.sh', name: 'smoke' }],
    });
  });

  it('accepts an empty file and `run: ~` (nothing runs)', () => {
    expect(parseFleetcastFile('')).toEqual({});
    expect(parseFleetcastFile('# nothing here\n')).toEqual({});
    expect(parseFleetcastFile('run: ~\n').run).toBeNull();
  });

  it('names the line of a bad value, of an unknown key, and of a nested problem', () => {
    expect(() => parseFleetcastFile('build: make\nartifact: ../../etc/passwd\n')).toThrow(/line 2: artifact: the artifact path is relative to the checkout/);
    expect(() => parseFleetcastFile('build: make\n\nbiuld: make\n')).toThrow(/line 3: .*biuld/);
    expect(() => parseFleetcastFile('gates:\n  - url: https://a.example/ok\n  - name: both\n    url: https://b.example\n    command: x\n')).toThrow(/line 3: gates.1: a gate has either a command or a url/);
    expect(() => parseFleetcastFile('waves: [[EU]]\n')).toThrow(/line 1: waves/);
    expect(() => parseFleetcastFile('health: ftp://x\n')).toThrow(/line 1: health: .*http/);
  });

  it('names the line of YAML that does not parse, and refuses duplicate keys', () => {
    expect(() => parseFleetcastFile('build: make\nrun: [unclosed\n')).toThrow(/not valid YAML: line \d/);
    expect(() => parseFleetcastFile('build: a\nbuild: b\n')).toThrow(/not valid YAML: line 2/);
    expect(() => parseFleetcastFile('- a\n- b\n')).toThrow(/invalid/);
  });
});
