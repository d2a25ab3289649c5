import { once } from 'node:events'
import type { Server } from 'node:http'
import type { LockService } from '@synod/lock'
import type { Observability } from './observability/index.js'
import type { WsApi } from './ws-api/index.js'
import type { HostPort } from './node.js'

/** What every node serves to clients, one consensus group or many. */
export interface NodeServices {
  readonly locks: LockService
  readonly api: Server
  readonly wsApi: WsApi | undefined
  readonly observability: Observability
  start(): Promise<void>
  stop(): Promise<void>
}

type ClientApis = Pick<NodeServices, 'locks' | 'api' | 'wsApi'>

/** Starts the lock service and the client APIs, once the consensus under them runs. */
export async function openClientApis ({ locks, api, wsApi }: ClientApis, listen: HostPort): Promise<void> {
  await locks.start()
  await wsApi?.start()
  api.listen(listen.port, listen.host)
  await once(api, 'listening')
}

/** Stops the client APIs and the lock service, before the consensus under them stops. */
export async function closeClientApis ({ locks, api, wsApi }: ClientApis): Promise<void> {
  api.closeAllConnections()
  await new Promise<void>((resolve) => { api.close(() => { resolve() }) })
  await wsApi?.stop()
  await locks.stop()
}
