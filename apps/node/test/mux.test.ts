import { createLockStateMachine, encodeCommand as encodeLock } from '@synod/lock'
import type { StateMachine } from '@synod/interfaces'
import { describe, expect, it } from 'vitest'
import { encodeCommand } from '../src/kv/commands.js'
import { createKvStateMachine } from '../src/kv/state-machine.js'
import { createMuxStateMachine } from '../src/mux/state-machine.js'
import { createTaggedLog } from '../src/mux/tagged-log.js'
import { createLocalLog } from './support/local-log.js'

const tagged = (tag: number, data: Uint8Array): Uint8Array => new Uint8Array([tag, ...data])

describe('mux state machine', () => {
  it('routes commands by tag and round-trips both machines through one snapshot', async () => {
    const kv = createKvStateMachine()
    const locks = createLockStateMachine()
    const mux = createMuxStateMachine(new Map<number, StateMachine<unknown>>([[1, kv], [2, locks]]))
    mux.apply({ index: 1, term: 1, data: tagged(1, encodeCommand({ op: 'put', key: 'a', value: new Uint8Array([7]) })) })
    const opened = mux.apply({ index: 2, term: 1, data: tagged(2, encodeLock({ type: 'open-session', ttlMs: 1000 })) })
    expect(opened).toMatchObject({ type: 'session-opened', session: 2 })

    const chunks: Uint8Array[] = []
    for await (const chunk of mux.snapshot()) chunks.push(chunk)
    const whole = Buffer.concat(chunks)
    const kv2 = createKvStateMachine()
    const locks2 = createLockStateMachine()
    const mux2 = createMuxStateMachine(new Map<number, StateMachine<unknown>>([[1, kv2], [2, locks2]]))
    await mux2.restore((async function * () { for (let i = 0; i < whole.length; i += 3) yield whole.subarray(i, i + 3) })(), { index: 2, term: 1 })
    expect([...(kv2.get('a')?.value ?? [])]).toEqual([7])
    // The restored lock machine knows the session: a keepalive for it succeeds.
    expect(mux2.apply({ index: 3, term: 1, data: tagged(2, encodeLock({ type: 'keepalive', session: 2 })) })).toMatchObject({ type: 'kept-alive' })
  })

  it('refuses unknown tags and truncated snapshots', async () => {
    const mux = createMuxStateMachine(new Map([[1, createKvStateMachine()]]))
    expect(() => mux.apply({ index: 1, term: 1, data: new Uint8Array([9, 1]) })).toThrow(expect.objectContaining({ code: 'ERR_BAD_FRAME' }))
    const restoring = mux.restore((async function * () { yield new Uint8Array([1, 0, 0, 0, 9, 1]) })(), { index: 1, term: 1 })
    await expect(restoring).rejects.toMatchObject({ code: 'ERR_CORRUPT' })
  })

  it('a tagged log prefixes proposals with its tag', async () => {
    const seen: number[] = []
    const log = createLocalLog({ apply: (command) => { seen.push(command.data[0] ?? -1); return 'ok' }, snapshot: async function * () {}, restore: async () => {} })
    const view = createTaggedLog<string>(log, 2)
    const { result } = await view.propose(new Uint8Array([5]))
    expect(result).toBe('ok')
    expect(seen).toEqual([2])
  })
})
