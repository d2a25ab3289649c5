/** A write's deduplication identity: the state machine applies a given (client, seq) at most once. */
export interface WriteSession {
  readonly client: string
  readonly seq: number
  /** Returns the session to the pool once the write's attempts are over. */
  release(): void
}

interface Lane { client: string, seq: number }

/**
 * Deduplication sessions for concurrent writes. The state machine remembers only the highest
 * sequence number per client id (Raft dissertation §6.3 assumes one outstanding request per
 * client), so two writes in flight under one id could reach the log out of order and the lower
 * one would be dropped as a duplicate while its caller is told it succeeded. Each write in flight
 * therefore holds its own lane `<clientId>/<n>` with its own increasing sequence; lanes are reused
 * once free, so the number of ids the cluster tracks is this client's peak write concurrency.
 *
 * Reusing a lane after a write whose fate is unknown is safe: a late copy of the old write carries
 * a lower sequence than the lane's next write, so it either applied before it or never will.
 */
export class WriteSessions {
  readonly #clientId: string
  readonly #free: Lane[] = []
  #lanes = 0

  constructor (clientId: string) {
    this.#clientId = clientId
  }

  acquire (): WriteSession {
    const lane = this.#free.pop() ?? { client: `${this.#clientId}/${this.#lanes++}`, seq: 0 }
    lane.seq += 1
    let released = false
    return {
      client: lane.client,
      seq: lane.seq,
      release: () => {
        if (released) return
        released = true
        this.#free.push(lane)
      }
    }
  }

  /** Lanes created so far (the peak number of concurrent writes). */
  get lanes (): number { return this.#lanes }
}
