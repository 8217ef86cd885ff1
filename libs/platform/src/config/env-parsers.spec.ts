import {
  maskUrlPassword,
  parseDurationMs,
  parseHostPort,
  parseHostPortList,
  parseInt10,
} from './env-parsers';

describe('environment value parsers', () => {
  it('reads durations with units as whole milliseconds', () => {
    expect(parseDurationMs('1500', {})).toEqual({ ok: true, value: 1_500 });
    expect(parseDurationMs('1500ms', {})).toEqual({ ok: true, value: 1_500 });
    expect(parseDurationMs('2s', {})).toEqual({ ok: true, value: 2_000 });
    expect(parseDurationMs('1.5m', {})).toEqual({ ok: true, value: 90_000 });
    expect(parseDurationMs('1H', {})).toEqual({ ok: true, value: 3_600_000 });
    expect(parseDurationMs('0.0001s', {}).ok).toBe(false);
    expect(parseDurationMs('-1s', {}).ok).toBe(false);
    expect(parseDurationMs('5 days', {}).ok).toBe(false);
  });

  it('rejects integers that are not plain base-10 or unsafe', () => {
    expect(parseInt10('0x10', {}).ok).toBe(false);
    expect(parseInt10('1e3', {}).ok).toBe(false);
    expect(parseInt10('99999999999999999999', {}).ok).toBe(false);
    expect(parseInt10('-3', { min: -5 })).toEqual({ ok: true, value: -3 });
  });

  it('parses host:port forms including IPv6 and pinned keys', () => {
    expect(parseHostPort('localhost', 6881)).toEqual({ ok: true, value: { host: 'localhost', port: 6881 } });
    expect(parseHostPort('::1', 6881)).toEqual({ ok: true, value: { host: '::1', port: 6881 } });
    expect(parseHostPort('[::1]:7', undefined)).toEqual({ ok: true, value: { host: '::1', port: 7 } });
    expect(parseHostPort('k@[fe80::1%eth0]:7', undefined)).toEqual({
      ok: true,
      value: { host: 'fe80::1%eth0', port: 7, key: 'k' },
    });
    expect(parseHostPort('host.example', undefined)).toEqual({
      ok: false,
      reason: '"host.example": a port is required',
    });
    expect(parseHostPort('host:0', undefined).ok).toBe(false);
    expect(parseHostPort('host:65536', undefined).ok).toBe(false);
    expect(parseHostPort('[::1', 1).ok).toBe(false);
    expect(parseHostPort('bad key@host:1', 1).ok).toBe(false);
    expect(parseHostPort('-host-:1', 1).ok).toBe(false);
  });

  it('bounds the number of list entries', () => {
    const many = Array.from({ length: 5 }, (_, i) => `h${i}:1`).join(',');
    expect(parseHostPortList(many, { maxEntries: 4 })).toEqual({ ok: false, reason: 'more than 4 entries' });
    expect(parseHostPortList('', { maxEntries: 4 })).toEqual({ ok: true, value: [] });
  });

  it('masks URL passwords, even in values that do not parse', () => {
    expect(maskUrlPassword('redis://:secret@cache:6379/0')).toBe('redis://:***@cache:6379/0');
    expect(maskUrlPassword('redis://cache:6379')).toBe('redis://cache:6379');
    expect(maskUrlPassword('redis://u:sec ret@ca che')).toBe('redis://u:***@ca che');
  });
});
