/**
 * The test hosts: one network namespace per node, one for the client (the load generator) and one
 * holding the Linux bridge that joins them. Addresses are 10.x inside these namespaces only; the
 * root namespace gets no address, route or interface.
 */
export interface NodeHost {
  readonly id: string
  /** Network namespace the node runs in. */
  readonly namespace: string
  readonly ip: string
  readonly peerPort: number
  readonly apiPort: number
  /** The WebSocket client API (`synod start --client-ws`), for `@synod/client`. */
  readonly clientWsPort: number
}

export interface Topology {
  readonly prefix: string
  readonly bridgeNamespace: string
  readonly clientNamespace: string
  readonly clientIp: string
  readonly nodes: readonly NodeHost[]
}

export interface TopologyOptions {
  /**
   * Namespace name prefix; stale namespaces with it are removed at start.
   * @default 'synodf'
   */
  readonly prefix?: string
  /** How many nodes. */
  readonly size: number
  /**
   * The /24 the hosts live in, as its first three octets.
   * @default '10.77.0'
   */
  readonly subnet?: string
}

export function createTopology (options: TopologyOptions): Topology {
  const prefix = options.prefix ?? 'synodf'
  const subnet = options.subnet ?? '10.77.0'
  if (!/^10\.\d{1,3}\.\d{1,3}$/.test(subnet)) throw new RangeError(`subnet must be 10.x.y, got ${subnet}`)
  if (options.size < 1 || options.size > 50) throw new RangeError('size must be 1 to 50')
  return {
    prefix,
    bridgeNamespace: `${prefix}-bridge`,
    clientNamespace: `${prefix}-client`,
    clientIp: `${subnet}.200`,
    nodes: Array.from({ length: options.size }, (_, i) => ({
      id: `n${i + 1}`,
      namespace: `${prefix}-n${i + 1}`,
      ip: `${subnet}.${11 + i}`,
      peerPort: 7000,
      apiPort: 8000,
      clientWsPort: 9000
    }))
  }
}

/** Every namespace of the topology, the bridge first. */
export function namespacesOf (topology: Topology): string[] {
  return [topology.bridgeNamespace, ...topology.nodes.map((node) => node.namespace), topology.clientNamespace]
}

/**
 * The `ip` commands that build the topology, in order. Veth pairs are created inside the bridge
 * namespace with their far end moved straight into the host namespace, so no interface ever
 * appears in the root namespace.
 */
export function setupCommands (topology: Topology): string[][] {
  const bridge = topology.bridgeNamespace
  const commands: string[][] = namespacesOf(topology).map((ns) => ['ip', 'netns', 'add', ns])
  commands.push(['ip', '-n', bridge, 'link', 'set', 'lo', 'up'])
  commands.push(['ip', '-n', bridge, 'link', 'add', 'br0', 'type', 'bridge'])
  commands.push(['ip', '-n', bridge, 'link', 'set', 'br0', 'up'])
  const hosts = [...topology.nodes.map((node) => ({ name: node.id, ns: node.namespace, ip: node.ip })),
    { name: 'client', ns: topology.clientNamespace, ip: topology.clientIp }]
  for (const host of hosts) {
    const port = `p-${host.name}`
    commands.push(['ip', '-n', bridge, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.ns])
    commands.push(['ip', '-n', bridge, 'link', 'set', port, 'master', 'br0'])
    commands.push(['ip', '-n', bridge, 'link', 'set', port, 'up'])
    commands.push(['ip', '-n', host.ns, 'link', 'set', 'lo', 'up'])
    commands.push(['ip', '-n', host.ns, 'addr', 'add', `${host.ip}/24`, 'dev', 'eth0'])
    commands.push(['ip', '-n', host.ns, 'link', 'set', 'eth0', 'up'])
  }
  return commands
}
