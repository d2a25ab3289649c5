import { transportSuite, type TransportTestNode } from '@synod/compliance/transport'
import type { WsTransport } from '../src/index.js'
import { rawConnect, testTransport } from './helpers.js'

const maxFrameBytes = 1024 * 1024

transportSuite({
  async setup () {
    return {
      async createNode (id): Promise<TransportTestNode> {
        const transport: WsTransport = testTransport(id, { maxFrameBytes, maxQueueMessages: 2000, maxQueueBytes: 4 * 1024 * 1024 })
        return {
          id,
          transport,
          address: () => {
            if (transport.address === undefined) throw new Error('not listening')
            return transport.address
          }
        }
      },
      async connectRaw (node) {
        return rawConnect(node.address())
      }
    }
  },
  async teardown () {},
  capabilities: { events: true, restart: true, boundedQueue: true, rawInput: true, maxFrameBytes, bulkPriority: true, fuzzFrames: 200 }
})
