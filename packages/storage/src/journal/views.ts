import {
  CompactedError, NotStartedError, throwIfAborted,
  type AbortOptions, type HardStateStorage, type LogEntry, type LogStorage
} from '@synod/interfaces'
import { raceAbort, releaseOnAbort } from '../util/abort.js'
import { validateAppend, validateIndex } from '../util/validate.js'
import type { JournalAccess } from './shared-log.js'

/**
 * Start and stop of one group's view: usable while the journal runs, unless this view was stopped
 * (and not started again). Stopping waits for the group's queued writes.
 */
function viewLifecycle (journal: JournalAccess, id: number, what: string): { start: () => Promise<void>, stop: () => Promise<void>, assertStarted: () => void } {
  let stopped = false
  return {
    async start () {
      await journal.start()
      stopped = false
    },
    async stop () {
      if (stopped) return
      stopped = true
      await journal.settled(id)
    },
    assertStarted () {
      if (stopped || !journal.started) throw new NotStartedError(`${what} of group ${id} is not started`)
    }
  }
}

/**
 * One group's LogStorage over the shared journal. Calls are validated against the group's queued
 * state (the log as it will be once every queued mutation is applied), as the file log does, so
 * concurrent calls are checked and applied in call order.
 */
export function createGroupLog (journal: JournalAccess, id: number): LogStorage {
  const { start, stop, assertStarted } = viewLifecycle(journal, id, 'log')
  return {
    start,
    stop,
    firstIndex: () => journal.state(id).compactedIndex + 1,
    lastIndex: () => journal.state(id).lastIndex(),
    term: (index) => journal.state(id).term(index),

    // Not async: on the hot path each extra async frame is another promise per append.
    append (entries: readonly LogEntry[], options?: AbortOptions): Promise<void> {
      try {
        throwIfAborted(options?.signal)
        assertStarted()
        const group = journal.state(id)
        validateAppend(entries, group.queuedCompactedIndex, group.queuedLastIndex)
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)))
      }
      if (entries.length === 0) return Promise.resolve()
      return releaseOnAbort(options?.signal, journal.append(id, entries))
    },

    async truncateSuffix (fromIndex: number, options?: AbortOptions) {
      await raceAbort(options?.signal, async () => {
        assertStarted()
        validateIndex(fromIndex, 'fromIndex')
        const group = journal.state(id)
        if (fromIndex <= group.queuedCompactedIndex) throw new CompactedError(fromIndex, group.queuedCompactedIndex + 1)
        if (fromIndex > group.queuedLastIndex) {
          // Nothing to remove; still resolves after the group's queued mutations, like every call.
          await journal.settled(id)
          return
        }
        await journal.truncate(id, fromIndex)
      })
    },

    async compactPrefix (upToIndex: number, term: number, options?: AbortOptions) {
      await raceAbort(options?.signal, async () => {
        assertStarted()
        validateIndex(upToIndex, 'upToIndex')
        validateIndex(term, 'term')
        if (upToIndex <= journal.state(id).queuedCompactedIndex) return
        await journal.compact(id, upToIndex, term)
      })
    },

    async entries (from: number, to: number, options?: AbortOptions & { maxBytes?: number }): Promise<LogEntry[]> {
      throwIfAborted(options?.signal)
      assertStarted()
      return await journal.read(id, from, to, options?.maxBytes ?? Infinity, options?.signal)
    }
  }
}

/** One group's HardStateStorage: each save is a journal record, durable with the batch it joins. */
export function createGroupHardState<T> (journal: JournalAccess, id: number): HardStateStorage<T> {
  const { start, stop, assertStarted } = viewLifecycle(journal, id, 'hard state')
  return {
    start,
    stop,
    async load (options?: AbortOptions) {
      throwIfAborted(options?.signal)
      assertStarted()
      const json = journal.state(id).hardStateJson
      return json === undefined ? undefined : JSON.parse(json) as T
    },
    async save (state: T, options?: AbortOptions) {
      await raceAbort(options?.signal, async () => {
        assertStarted()
        await journal.saveHardState(id, state)
      })
    }
  }
}
