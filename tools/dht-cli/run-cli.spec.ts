import { runCli } from './run-cli';

function capture() {
  const out = { stdout: '', stderr: '' };
  return {
    out,
    io: {
      stdout: { write: (text: string) => (out.stdout += text) },
      stderr: { write: (text: string) => (out.stderr += text) },
    },
  };
}

describe('runCli without the network', () => {
  it('prints help and exits 0', async () => {
    const { out, io } = capture();
    expect(await runCli(['--help'], io)).toBe(0);
    expect(out.stdout).toContain('dht ping <address>');
    expect(await runCli(['lookup', '--help'], io)).toBe(0);
    expect(out.stdout).toContain('--value');
  });

  it('exits 2 with a clear message and a usage hint for a bad address', async () => {
    const { out, io } = capture();
    expect(await runCli(['ping', '10.0.0.1'], io)).toBe(2);
    expect(out.stderr).toBe(
      'dht: bad address "10.0.0.1": expected host:port, [ipv6]:port or <64-hex-char public key>@host:port\n' +
        "Run 'dht ping --help' for usage.\n",
    );
    expect(out.stdout).toBe('');
  });

  it('also reports the error as JSON on stdout with --json', async () => {
    const { out, io } = capture();
    expect(await runCli(['lookup', 'nothex', '-b', 'h:1', '--json'], io)).toBe(2);
    expect(JSON.parse(out.stdout)).toEqual({
      error: { code: 'CLI_USAGE', message: expect.stringContaining('bad id "nothex"') },
    });
  });
});
