import { downIndicators, selectMetricLines } from './http-probe';

const PAGE = `# HELP kad_routing_table_size Contacts in the routing table
# TYPE kad_routing_table_size gauge
kad_routing_table_size 412
kad_lookup_duration_seconds_bucket{le="0.1",kind="node"} 3
kad_lookup_duration_seconds_sum{kind="node"} 0.5
kad_lookup_duration_seconds_count{kind="node"} 4
http_requests_total{route="/metrics"} 9
process_resident_memory_bytes 1.2e+08
`;

describe('selectMetricLines', () => {
  it('keeps the samples whose names start with a prefix, without histogram buckets or comments', () => {
    expect(selectMetricLines(PAGE, { prefixes: ['kad_', 'process_'] })).toEqual({
      lines: [
        'kad_routing_table_size 412',
        'kad_lookup_duration_seconds_sum{kind="node"} 0.5',
        'kad_lookup_duration_seconds_count{kind="node"} 4',
        'process_resident_memory_bytes 1.2e+08',
      ],
      truncated: false,
    });
  });

  it('stops at max lines and says so', () => {
    expect(selectMetricLines(PAGE, { prefixes: ['kad_'], max: 2 })).toEqual({
      lines: ['kad_routing_table_size 412', 'kad_lookup_duration_seconds_sum{kind="node"} 0.5'],
      truncated: true,
    });
  });
});

describe('downIndicators', () => {
  it('names what a terminus body reports as down', () => {
    const body = JSON.stringify({
      status: 'error',
      info: { dht: { status: 'up' } },
      error: { redis: { status: 'down', message: 'ECONNREFUSED' } },
      details: { dht: { status: 'up' }, redis: { status: 'down' } },
    });
    expect(downIndicators(body)).toEqual(['redis']);
    expect(
      downIndicators(JSON.stringify({ details: { dht: { status: 'down' }, x: { status: 'up' } } })),
    ).toEqual(['dht']);
  });

  it('reads nothing from bodies that are not terminus JSON', () => {
    expect(downIndicators('Service Unavailable')).toEqual([]);
    expect(downIndicators('null')).toEqual([]);
    expect(downIndicators('{"status":"ok","info":{},"error":{},"details":{}}')).toEqual([]);
  });
});
