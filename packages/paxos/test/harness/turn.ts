/** One turn of the event loop: lets the node's queued I/O callbacks run. */
export const turn = async (): Promise<void> => { await new Promise((resolve) => { setImmediate(resolve) }) }
