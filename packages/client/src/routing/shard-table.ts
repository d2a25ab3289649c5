import { shardOfKey, type ShardMapShard, type ShardMapView } from './shard-map.js'

/**
 * A fetched shard map plus what redirects taught since: the client's routing table for a sharded
 * cluster. The map says where each shard's replicas live; a shard's leader comes from the latest
 * `ERR_NOT_LEADER` hint for it, else from the map. Leaders move without the map's epoch changing
 * (an election is not a metadata change), so hints are the fresher source until the next map.
 */
export class ShardTable {
  readonly map: ShardMapView
  readonly #shards: Array<ShardMapShard | undefined>
  /** Client URL of each node id: the map's, then any a redirect named. */
  readonly #urlOfNode = new Map<string, string>()
  /** Client URLs of each shard's replicas, in preference order. */
  readonly #replicaUrls: Array<readonly string[]>
  /**
   * Leaders learned from redirects, by shard (null: the last redirect named none, an election),
   * with the metadata epoch the redirecting node had.
   */
  readonly #leaderHints = new Map<number, { leader: string | null, epoch: number }>()
  #snapshot: ShardMapView | undefined

  /**
   * `previous` carries the redirect-learned leaders over, except where the new map names a leader
   * and is at least as new as the redirect (by metadata epoch): a map fetched while a redirect from
   * a newer epoch came in must not undo it.
   */
  constructor (map: ShardMapView, previous?: ShardTable) {
    this.map = map
    this.#shards = Array.from({ length: map.shardCount }, (): ShardMapShard | undefined => undefined)
    for (const shard of map.shards) this.#shards[shard.shard] = shard
    if (previous !== undefined) for (const [id, url] of previous.#urlOfNode) this.#urlOfNode.set(id, url)
    for (const node of map.nodes) if (node.wsUrl !== undefined) this.#urlOfNode.set(node.id, node.wsUrl)
    this.#replicaUrls = this.#shards.map((shard) => (shard?.replicas ?? []).flatMap((id) => {
      const url = this.#urlOfNode.get(id)
      return url === undefined ? [] : [url]
    }))
    if (previous !== undefined) {
      for (const [shard, hint] of previous.#leaderHints) {
        if (shard >= map.shardCount) continue
        if (this.#shards[shard]?.leader == null || hint.epoch > map.epoch) this.#leaderHints.set(shard, hint)
      }
    }
  }

  get epoch (): number { return this.map.epoch }

  shardOf (key: string): number {
    return shardOfKey(key, this.map.shardCount)
  }

  urlOf (nodeId: string): string | undefined {
    return this.#urlOfNode.get(nodeId)
  }

  /**
   * Where a linearizable request for `shard` goes first: its leader, else its preferred leader,
   * else a replica in preference order; the first one whose URL is known and not in `exclude`.
   */
  leaderUrl (shard: number, exclude: ReadonlySet<string>): string | undefined {
    const entry = this.#shards[shard]
    if (entry === undefined) return undefined
    const hinted = this.#leaderHints.get(shard)
    const leader = hinted === undefined ? entry.leader : hinted.leader
    for (const id of [leader, entry.preferredLeader]) {
      const url = id === null ? undefined : this.#urlOfNode.get(id)
      if (url !== undefined && !exclude.has(url)) return url
    }
    return this.#replicaUrls[shard]?.find((url) => !exclude.has(url))
  }

  /** Client URLs of the shard's replicas (where a serializable read may go). */
  replicaUrls (shard: number): readonly string[] {
    return this.#replicaUrls[shard] ?? []
  }

  /**
   * Records a redirect: `leader` leads `shard` (null: the redirecting node knew no leader), said by
   * a node whose map had metadata `epoch` (this map's, when the redirect did not say).
   */
  noteLeader (shard: number, leader: string | null, url?: string, epoch = this.map.epoch): void {
    if (shard < 0 || shard >= this.map.shardCount) return
    if (leader !== null && url !== undefined) this.#urlOfNode.set(leader, url)
    const known = this.#leaderHints.get(shard)
    if (known?.leader === leader && known.epoch >= epoch) return
    this.#leaderHints.set(shard, { leader, epoch: Math.max(epoch, known?.epoch ?? 0) })
    this.#snapshot = undefined
  }

  /** The node at `url` stopped answering: stop sending its shards there until news of a leader. */
  forgetLeaderAt (url: string): boolean {
    let forgot = false
    for (let shard = 0; shard < this.map.shardCount; shard++) {
      const entry = this.#shards[shard]
      const hinted = this.#leaderHints.get(shard)
      const leader = hinted === undefined ? entry?.leader : hinted.leader
      if (leader != null && this.#urlOfNode.get(leader) === url) {
        this.#leaderHints.set(shard, { leader: null, epoch: hinted?.epoch ?? this.map.epoch })
        forgot = true
      }
    }
    if (forgot) this.#snapshot = undefined
    return forgot
  }

  /** The map with each shard's leader as this client knows it now; frozen, rebuilt only after a change. */
  view (): ShardMapView {
    this.#snapshot ??= this.#leaderHints.size === 0
      ? this.map
      : Object.freeze({
        ...this.map,
        shards: Object.freeze(this.map.shards.map((shard) => {
          const hinted = this.#leaderHints.get(shard.shard)
          return hinted === undefined ? shard : Object.freeze({ ...shard, leader: hinted.leader })
        }))
      })
    return this.#snapshot
  }
}
