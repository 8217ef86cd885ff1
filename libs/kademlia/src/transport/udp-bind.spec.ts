import { bindPlanned, closeSocket, ipv4FromMapped, planBind } from './udp-bind';

describe('planBind', () => {
  it('binds 0.0.0.0 and an optional :: by default', () => {
    expect(planBind({ port: 0 })).toEqual({ ipv4: '0.0.0.0', ipv6: '::', ipv6Optional: true, port: 0 });
    expect(planBind({ bindAddress: '0.0.0.0', port: 1 })).toEqual({
      ipv4: '0.0.0.0',
      ipv6: '::',
      ipv6Optional: true,
      port: 1,
    });
  });

  it('binds a specific IPv4 address alone unless bindAddress6 is given', () => {
    expect(planBind({ bindAddress: '127.3.4.5', port: 0 })).toEqual({
      ipv4: '127.3.4.5',
      ipv6Optional: false,
      port: 0,
    });
    expect(planBind({ bindAddress: '127.3.4.5', bindAddress6: '::1', port: 0 })).toEqual({
      ipv4: '127.3.4.5',
      ipv6: '::1',
      ipv6Optional: false,
      port: 0,
    });
  });

  it('disables IPv6 with bindAddress6: null and binds an IPv6 bindAddress alone', () => {
    expect(planBind({ bindAddress6: null, port: 0 })).toEqual({
      ipv4: '0.0.0.0',
      ipv6Optional: false,
      port: 0,
    });
    expect(planBind({ bindAddress: '::1', port: 0 })).toEqual({ ipv6: '::1', ipv6Optional: false, port: 0 });
  });

  it('treats an IPv4-mapped bindAddress as IPv4', () => {
    expect(planBind({ bindAddress: '::ffff:127.0.0.9', port: 0 })).toMatchObject({ ipv4: '127.0.0.9' });
  });

  it('rejects non-literal or mismatched addresses', () => {
    for (const options of [
      { bindAddress: 'localhost', port: 0 },
      { bindAddress6: '10.0.0.1', port: 0 },
      { bindAddress: '::', bindAddress6: '::1', port: 0 },
    ]) {
      expect(() => planBind(options)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    }
  });
});

describe('ipv4FromMapped', () => {
  it('extracts the IPv4 address of ::ffff:a.b.c.d only', () => {
    expect(ipv4FromMapped('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(ipv4FromMapped('::FFFF:10.1.2.3')).toBe('10.1.2.3');
    expect(ipv4FromMapped('::1')).toBeUndefined();
    expect(ipv4FromMapped('2001:db8::ffff:1.2.3.4')).toBeUndefined();
    expect(ipv4FromMapped('127.0.0.1')).toBeUndefined();
  });
});

describe('bindPlanned', () => {
  it('falls back to IPv4 alone when an optional IPv6 address cannot be bound, and says why', async () => {
    // 2001:db8::/32 is the documentation prefix: no interface of a test machine holds it.
    const bound = await bindPlanned(
      { ipv4: '127.0.0.2', ipv6: '2001:db8::99', ipv6Optional: true, port: 0 },
      { onError: () => undefined },
    );
    try {
      expect(bound.socket4?.address().address).toBe('127.0.0.2');
      expect(bound.socket6).toBeUndefined();
      expect(bound.ipv6FallbackReason).toMatch(/^E[A-Z]+$/); // EADDRNOTAVAIL here; EAFNOSUPPORT without IPv6
    } finally {
      if (bound.socket4) await closeSocket(bound.socket4);
    }
  });

  it('fails when a requested IPv6 address cannot be bound', async () => {
    const attempt = bindPlanned(
      { ipv4: '127.0.0.2', ipv6: '2001:db8::99', ipv6Optional: false, port: 0 },
      { onError: () => undefined },
    );
    await expect(attempt).rejects.toMatchObject({ code: 'TRANSPORT_BIND_FAILED', details: { family: 6 } });
  });
});
