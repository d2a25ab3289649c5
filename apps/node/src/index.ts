/**
 * @packageDocumentation
 *
 * The reference Synod node: transport-ws, file storage, Raft and a replicated KV state machine
 * behind an HTTP/JSON API. Run it with the `synod` CLI; embed it with `createSynodNode`.
 */
export { createSynodNode, type SynodNode, type SynodNodeConfig, type HostPort } from './node.js'
export { createKvStateMachine, type KvStateMachine, type KvRecord, type KvStateMachineInit } from './kv/state-machine.js'
export { encodeCommand, decodeCommand, type KvCommand, type KvResult } from './kv/commands.js'
export { createHttpApi, type HttpApiInit, type HttpApiComponents } from './http/server.js'
export { createWsApi, type WsApi, type WsApiInit, type WsApiComponents } from './ws-api/index.js'
