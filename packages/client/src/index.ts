/**
 * @packageDocumentation
 *
 * Client SDK for a Synod cluster: KV and locks over WebSocket and MessagePack, leader-following, retries, AbortSignal
 */
export {}
