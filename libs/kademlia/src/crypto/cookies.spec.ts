import { CookieJar, cookieMac } from './cookies';

describe('CookieJar', () => {
  const covered = new Uint8Array([1, 2, 3]);
  let now = 0;
  const jar = () => {
    now = 0;
    let n = 0;
    return new CookieJar({
      now: () => now,
      rotationMs: 1000,
      randomSecret: () => new Uint8Array(32).fill(++n),
    });
  };

  it('accepts a MAC under the cookie of the same address only', () => {
    const cookies = jar();
    const mac = cookieMac(cookies.cookieFor('10.0.0.1:5'), covered);
    expect(mac.length).toBe(16);
    expect(cookies.verify('10.0.0.1:5', covered, mac)).toBe(true);
    expect(cookies.verify('10.0.0.1:6', covered, mac)).toBe(false);
    expect(cookies.verify('10.0.0.1:5', new Uint8Array([1, 2, 4]), mac)).toBe(false);
    expect(cookies.verify('10.0.0.1:5', covered, mac.subarray(0, 15))).toBe(false);
  });

  it('keeps a cookie valid through one rotation and refuses it after two', () => {
    const cookies = jar();
    const mac = cookieMac(cookies.cookieFor('10.0.0.1:5'), covered);
    now = 1500;
    expect(cookies.verify('10.0.0.1:5', covered, mac)).toBe(true);
    now = 2600;
    expect(cookies.verify('10.0.0.1:5', covered, mac)).toBe(false);
  });

  it('forgets both secrets after a long idle gap', () => {
    const cookies = jar();
    const mac = cookieMac(cookies.cookieFor('h:1'), covered);
    now = 5000;
    expect(cookies.verify('h:1', covered, mac)).toBe(false);
  });
});
