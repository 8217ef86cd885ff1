import type { CommandName } from './args';
import { CLI_DEFAULTS } from './defaults';

const COMMON = `Common options:
  --timeout, -t <ms>   bound of each network operation (default ${CLI_DEFAULTS.timeoutMs})
  --bind <ip>          local address of the CLI's client node (default: all interfaces)
  --json               machine-readable output on stdout
  --help, -h           this text

Addresses: host:port, [ipv6]:port, or <64-hex-char public key>@host:port to pin the node's key.
Exit codes: 0 ok, 1 no answer / not found / not ready, 2 bad input, 130 interrupted (Ctrl+C).`;

const TEXTS: Record<CommandName | 'main', string> = {
  main: `dht — check kadfleet DHT nodes from outside

Usage:
  dht ping <address> [--count N] [--interval MS]
  dht lookup <id-hex> --bootstrap <address>[,<address>...]
  dht lookup --key <name> [--value] --bootstrap <address>[,<address>...]
  dht info <address> [--http <url>] [--metrics <prefix>,...]
  dht <command> --help

The CLI runs a short-lived client-mode node (encrypted sessions, OS-chosen port): it never enters anyone's
routing table.

${COMMON}
`,
  ping: `dht ping <address> [options]

Pings a node: prints its NodeId and public key (pinned, or learned on first contact), RTT min/avg/max and loss.
Exits 0 when at least one probe was answered, 1 when none was.

  --count, -c <n>      probes to send (default ${CLI_DEFAULTS.pingCount})
  --interval, -i <ms>  pause between probes (default ${CLI_DEFAULTS.pingIntervalMs})

${COMMON}
`,
  lookup: `dht lookup <id-hex | --key <name>> --bootstrap <address>[,...] [options]

Joins the network as a client through the bootstrap addresses (repeat --bootstrap or separate with commas) and
looks up the k closest nodes to a 160-bit id (40 hex chars) or to SHA-1(name) with --key: prints each node's
id, address and distance prefix (shared leading bits, XOR distance), then hops, messages and duration.
Exits 0 with at least one contact, 1 when no bootstrap node answered.

  --key, -k <name>         look up SHA-1(name) instead of a hex id
  --value                  FIND_VALUE for --key: print the value stored under it (exit 1 when not found)
  --bootstrap, -b <addrs>  where to join (required)

${COMMON}
`,
  info: `dht info <address> [options]

A health probe of one node: reachability, NodeId, key, RTT (first contact and over the session), and how many
contacts it returns for a random target and for its own id (a healthy node in a network of more than k nodes
returns k = 20 for both). With --http, also GET <url>/health/ready and a summary of <url>/metrics.
Exits 0 when the node answered (and, with --http, reports ready), 1 otherwise.

  --http <url>             the node's HTTP base URL (the bootstrap service), e.g. http://10.0.0.5:8080
  --metrics <prefixes>     metric name prefixes to show (default ${CLI_DEFAULTS.metricPrefixes.join(',')})

${COMMON}
`,
};

export function helpText(topic?: CommandName): string {
  return TEXTS[topic ?? 'main'];
}
