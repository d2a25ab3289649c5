/**
 * @packageDocumentation
 *
 * The reference Synod node: transport-ws, file storage, Raft or Paxos, and replicated KV and lock
 * state machines behind an HTTP/JSON API (and a WebSocket + MessagePack one). Run it with the
 * `synod` CLI; embed it with `createSynodNode`.
 */
export { createSynodNode, CONSENSUS_ENGINES, type SynodNode, type SynodNodeConfig, type HostPort, type ConsensusEngine, type ConsensusNode } from './node.js'
export { membersOf, parseMembersRequest, type MemberView, type MembersView, type MembersRequest } from './http/members.js'
export { createKvStateMachine, type KvStateMachine, type KvRecord, type KvStateMachineInit } from './kv/state-machine.js'
export { encodeCommand, decodeCommand, type KvCommand, type KvResult } from './kv/commands.js'
export { createHttpApi, type HttpApiInit, type HttpApiComponents } from './http/server.js'
export { createWsApi, type WsApi, type WsApiInit, type WsApiComponents } from './ws-api/index.js'
