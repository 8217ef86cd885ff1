import { Controller, Get, Logger, NotFoundException } from '@nestjs/common';
import { createPlatformTestApp, PlatformTestApp } from '../testing/platform-test-app';
import { httpGet } from '../testing/http-request';

@Controller('keys')
class KeysController {
  private readonly logger = new Logger('Keys');

  @Get('mine')
  mine() {
    this.logger.log({ msg: 'identity loaded', identity: { nodeId: 'ab12', secretKey: 'deadbeef' } });
    return { ok: true };
  }

  @Get('missing')
  missing() {
    throw new NotFoundException('no such key');
  }
}

describe('JSON logging', () => {
  let t: PlatformTestApp;

  beforeAll(async () => {
    t = await createPlatformTestApp({ controllers: [KeysController], env: { SERVICE_NAME: 'log-test' } });
  });
  afterAll(() => t.close());

  it('logs each request as one JSON line with service, level name and request id, secrets redacted', async () => {
    const reply = await httpGet(`${t.url}/keys/mine`, {
      headers: { authorization: 'Bearer s3cr3t-token', 'x-request-id': 'req-123' },
    });
    expect(reply.headers['x-request-id']).toBe('req-123');
    const line = t.logs.find(
      (l) => l.msg === 'request completed' && (l.req as { id?: string })?.id === 'req-123',
    );
    expect(line).toMatchObject({ level: 'info', service: 'log-test', res: { statusCode: 200 } });
    expect(JSON.stringify(line)).not.toContain('s3cr3t-token');
    expect((line?.req as { headers: Record<string, string> }).headers.authorization).toBe('[redacted]');
  });

  it('redacts key material in objects a service logs', async () => {
    await httpGet(`${t.url}/keys/mine`);
    const line = t.logs.find((l) => l.msg === 'identity loaded');
    expect(line?.identity).toEqual({ nodeId: 'ab12', secretKey: '[redacted]' });
    expect(line?.context).toBe('Keys');
  });

  it('replaces an unsafe request id with a fresh one', async () => {
    const reply = await httpGet(`${t.url}/keys/mine`, { headers: { 'x-request-id': 'bad id\twith spaces' } });
    expect(reply.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs client errors at warn', async () => {
    await httpGet(`${t.url}/keys/missing`);
    const line = t.logs.find((l) => (l.req as { url?: string })?.url === '/keys/missing');
    expect(line?.level).toBe('warn');
  });

  it('does not log probes and scrapes', async () => {
    await httpGet(`${t.url}/health/live`);
    await httpGet(`${t.url}/health/ready`);
    await httpGet(`${t.url}/metrics`);
    const urls = t.logs.lines.map((l) => (l.req as { url?: string } | undefined)?.url).filter(Boolean);
    expect(urls.filter((u) => u!.startsWith('/health') || u!.startsWith('/metrics'))).toEqual([]);
  });
});
