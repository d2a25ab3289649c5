import { createHash } from 'node:crypto'
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import {
  CorruptionError, NotStartedError, throwIfAborted,
  type AbortOptions, type HardState, type HardStateStorage
} from '@synod/interfaces'
import type { GroupId } from './group-mux.js'

/**
 * The hard state (term, vote, commit hint) of every shard on a node in one file. Raft saves its
 * hard state up to once per tick per busy group; with a file per shard that is two fsyncs per
 * shard per tick, which a disk doing a few hundred fsyncs a second cannot sustain with dozens of
 * busy shards. Here every save that arrives while a write is in flight joins the next write: one
 * atomic file replacement (temp file, fsync, rename, fsync the directory) makes the saves of all
 * shards durable at once (group commit across groups).
 */
export interface SharedHardStateStore {
  /** The view of one shard. Starting the first view loads the file; stopping the last one waits for writes. */
  forShard(shard: GroupId): HardStateStorage
  /** Drops a shard's record (its replica moved away) and waits until that is durable. */
  forget(shard: GroupId): Promise<void>
}

interface Waiter { resolve: () => void, reject: (error: Error) => void }

export function createSharedHardStateStore (path: string): SharedHardStateStore {
  const states = new Map<GroupId, HardState>()
  let users = 0
  let loaded: Promise<void> | undefined
  let dirty = false
  let waiting: Waiter[] = []
  let writing: Promise<void> | undefined

  async function load (): Promise<void> {
    await mkdir(dirname(path), { recursive: true })
    await rm(`${path}.tmp`, { force: true })
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
      throw error
    }
    const record = JSON.parse(text) as { checksum: string, states: string }
    if (digest(record.states) !== record.checksum) throw new CorruptionError(`${path}: checksum mismatch`)
    for (const [shard, state] of Object.entries(JSON.parse(record.states) as Record<string, HardState>)) states.set(Number(shard), state)
  }

  async function writeOnce (): Promise<void> {
    const body = JSON.stringify(Object.fromEntries(states))
    const handle = await open(`${path}.tmp`, 'w')
    try {
      await handle.writeFile(JSON.stringify({ checksum: digest(body), states: body }))
      await handle.datasync()
    } finally {
      await handle.close()
    }
    await rename(`${path}.tmp`, path)
    const dir = await open(dirname(path), 'r')
    try {
      await dir.sync()
    } finally {
      await dir.close()
    }
  }

  async function drain (): Promise<void> {
    while (dirty) {
      dirty = false
      const batch = waiting
      waiting = []
      try {
        await writeOnce()
        for (const waiter of batch) waiter.resolve()
      } catch (error) {
        for (const waiter of batch) waiter.reject(error as Error)
      }
    }
  }

  return {
    async forget (shard) {
      loaded ??= load()
      await loaded
      if (!states.delete(shard)) return
      dirty = true
      await new Promise<void>((resolve, reject) => {
        waiting.push({ resolve, reject })
        writing ??= drain().finally(() => { writing = undefined })
      })
    },
    forShard (shard) {
      let started = false
      return {
        async start () {
          if (started) return
          loaded ??= load()
          await loaded
          started = true
          users++
        },
        async stop () {
          if (!started) return
          started = false
          users--
          if (users === 0 && writing !== undefined) await writing
        },
        async load (options?: AbortOptions) {
          throwIfAborted(options?.signal)
          if (!started) throw new NotStartedError('shard hard state is not started')
          const state = states.get(shard)
          return state === undefined ? undefined : { ...state }
        },
        async save (state: HardState, options?: AbortOptions) {
          throwIfAborted(options?.signal)
          if (!started) throw new NotStartedError('shard hard state is not started')
          states.set(shard, { term: state.term, vote: state.vote, commit: state.commit })
          dirty = true
          await new Promise<void>((resolve, reject) => {
            waiting.push({ resolve, reject })
            writing ??= drain().finally(() => { writing = undefined })
          })
        }
      }
    }
  }
}

function digest (text: string): string {
  return createHash('sha256').update(text).digest('hex')
}
