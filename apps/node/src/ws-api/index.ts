export { createWsApi, type WsApi, type WsApiInit, type WsApiComponents } from './server.js'
export {
  parseWsRequest, MAX_RANGE_LIMIT, DEFAULT_RANGE_LIMIT,
  type WsRequest, type Consistency, type WsItem, type WsGetResponse, type WsRangeResponse, type WsWriteResponse
} from './protocol.js'
