// What the cluster primary and its workers say to each other about serving, in one place, so that the
// primary need not load the worker's modules (the whole app) to know the words.

/** Pending connections the kernel may queue: a burst of a few thousand clients connecting at once. */
export const LISTEN_BACKLOG = 4096;

/** Worker → primary: the app is built; hand me connections. */
export const WORKER_READY = 'gatehouse:ready';
/** Primary → workers: readiness fails from now on; keep serving. */
export const WORKER_DRAIN = 'drain';
/** Primary → workers: finish what is in flight, then exit. */
export const WORKER_SHUTDOWN = 'shutdown';
