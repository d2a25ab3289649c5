/**
 * @packageDocumentation
 *
 * Peer transport for Synod over WebSocket and MessagePack
 */
export {}
