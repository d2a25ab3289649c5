import { describe, expect, it } from 'vitest'
import { createMemoryNetwork } from '../src/index.js'

const settle = async (): Promise<void> => { await new Promise<void>((resolve) => { setImmediate(resolve) }); await new Promise<void>((resolve) => { setImmediate(resolve) }) }

describe('createMemoryNetwork', () => {
  for (const delivery of ['microtask', 'macrotask'] as const) {
    it(`delivers copies in order on a ${delivery}, never synchronously`, async () => {
      const network = createMemoryNetwork({ delivery })
      const a = network.endpoint<{ n: number }>('a', { peers: ['b'] })
      const b = network.endpoint<{ n: number }>('b', { peers: ['a'] })
      const got: Array<[string, number]> = []
      b.onMessage((from, message) => { got.push([from, message.n]) })
      await a.start(); await b.start()
      const message = { n: 0 }
      for (let n = 0; n < 100; n++) {
        message.n = n
        expect(a.send('b', message)).toBe(true)
      }
      expect(got).toEqual([])
      await settle()
      expect(got).toEqual(Array.from({ length: 100 }, (_, n) => ['a', n]))
    })
  }

  it('drops sends to unknown peers, from stopped endpoints and to stopped endpoints', async () => {
    const network = createMemoryNetwork()
    const a = network.endpoint('a', { peers: ['b'] })
    const b = network.endpoint('b')
    const got: unknown[] = []
    b.onMessage((_from, message) => got.push(message))
    expect(a.send('b', 1)).toBe(false)
    await a.start()
    expect(a.send('c', 1)).toBe(false)
    expect(a.send('b', 'b not started')).toBe(true)
    await settle()
    expect(got).toEqual([])
    await b.start()
    a.send('b', 'ok')
    await settle()
    expect(got).toEqual(['ok'])
    await a.stop()
    expect(a.send('b', 'stopped')).toBe(false)
  })

  it('emits peer:connect and peer:disconnect, and unsubscribes handlers', async () => {
    const network = createMemoryNetwork()
    const a = network.endpoint('a')
    await network.endpoint('b').start()
    await network.endpoint('c').start()
    const events: string[] = []
    a.addEventListener('peer:connect', (event) => events.push(`connect ${event.detail.peer}`))
    a.addEventListener('peer:disconnect', (event) => events.push(`disconnect ${event.detail.peer} ${event.detail.reason}`))
    a.addPeer('b', 'memory://b')
    await a.start()
    a.addPeer('c', 'memory://c')
    a.removePeer('b')
    expect(a.peers()).toEqual(['c'])
    await a.stop()
    expect(events).toEqual(['connect b', 'connect c', 'disconnect b removed', 'disconnect c stopped'])
    // A peer that stops or starts is reported too, like a connection that breaks and re-forms.
    await a.start()
    events.length = 0
    const c0 = network.endpoint('c')
    await c0.start()
    expect(events).toEqual(['disconnect c peer stopped', 'connect c'])

    const b = network.endpoint('b', { peers: ['c'] })
    const c = network.endpoint('c', { peers: ['b'] })
    const got: unknown[] = []
    const off = c.onMessage((_from, message) => got.push(message))
    await b.start(); await c.start()
    off()
    b.send('c', 'unheard')
    await settle()
    expect(got).toEqual([])
  })
})
