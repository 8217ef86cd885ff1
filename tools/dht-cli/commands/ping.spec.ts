import { parseCommandLine, type PingArgs } from '../args';
import { pingReport, pingSummary, type ProbeResult } from './ping';

const args = parseCommandLine(['ping', '127.0.0.1:6881', '-c', '4']) as PingArgs;
const answer = (seq: number, rttMs: number): ProbeResult => ({
  seq,
  ok: true,
  rttMs,
  nodeId: 'aa'.repeat(20),
  publicKey: 'bb'.repeat(32),
  observed: '127.0.0.1:5000',
});
const lost = (seq: number): ProbeResult => ({
  seq,
  ok: false,
  error: { code: 'CLI_TIMEOUT', message: 'no answer' },
});

describe('ping report', () => {
  it('counts loss and RTT over the answered probes only', () => {
    const report = pingReport({
      args,
      address: '127.0.0.1:6881',
      addresses: ['127.0.0.1:6881'],
      probes: [answer(1, 9), lost(2), answer(3, 1), answer(4, 2)],
    });
    expect(report).toMatchObject({
      sent: 4,
      answered: 3,
      lossPercent: 25,
      rttMs: { min: 1, avg: 4, max: 9 },
    });
    expect(report.node).toMatchObject({ id: 'aa'.repeat(20), keySource: 'discovered', idChanged: false });
    expect(pingSummary(report)).toContain('loss        25% (4 sent, 3 answered)');
  });

  it('says plainly that nobody answered', () => {
    const report = pingReport({ args, address: '127.0.0.1:6881', addresses: [], probes: [lost(1), lost(2)] });
    expect(report).toMatchObject({ answered: 0, lossPercent: 100, rttMs: null, node: null });
    expect(pingSummary(report)).toBe(
      '--- 127.0.0.1:6881 ---\nno answer from 127.0.0.1:6881: 100% (2 sent, 0 answered)\n',
    );
  });

  it('flags a node whose id changed during the run (it restarted with a new key)', () => {
    const other = { ...answer(2, 1), nodeId: 'cc'.repeat(20) } as ProbeResult;
    const report = pingReport({ args, address: 'a:1', addresses: [], probes: [answer(1, 1), other] });
    expect(report.node?.idChanged).toBe(true);
  });
});
