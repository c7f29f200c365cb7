// Wraps any store so that every operation's latency is observed, by backend and operation.
import type { Metrics } from '../observability/metrics.js';
import type { KeyValueStore } from './store.js';

export function instrumentStore(kv: KeyValueStore, metrics: Metrics): KeyValueStore {
  function timed<A extends unknown[], R>(op: string, fn: (...args: A) => Promise<R>) {
    return async (...args: A): Promise<R> => {
      const stop = metrics.storeLatency.startTimer({ backend: kv.backend, op });
      try {
        return await fn(...args);
      } finally {
        stop();
      }
    };
  }
  return {
    backend: kv.backend,
    native: kv.native,
    put: timed('put', kv.put.bind(kv)),
    get: timed('get', kv.get.bind(kv)),
    takeOnce: timed('take_once', kv.takeOnce.bind(kv)),
    delete: timed('delete', kv.delete.bind(kv)),
    increment: timed('increment', kv.increment.bind(kv)),
    ping: timed('ping', kv.ping.bind(kv)),
    close: () => kv.close(),
  };
}
