/**
 * @packageDocumentation
 *
 * Distributed lock service for Synod: sessions with leases, FIFO mutexes, read/write locks, semaphores and fencing tokens on any ReplicatedLog
 */
export {}
