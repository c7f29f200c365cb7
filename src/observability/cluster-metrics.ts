// Metrics over all cluster workers: a worker asked for /metrics asks the primary, which gathers every
// worker's registry with prom-client's AggregatorRegistry and answers with the sum.
import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { AggregatorRegistry, type Registry } from 'prom-client';

const REQUEST = 'gatehouse:metrics-request';
const REPLY = 'gatehouse:metrics-reply';
const TIMEOUT_MS = 5_000;

interface MetricsMessage {
  type?: string;
  id?: string;
  text?: string;
  error?: string;
}

/**
 * Primary: answers workers' requests with the workers' metrics summed, followed by the primary's own;
 * returns the same collector, for a METRICS_PORT that the primary serves itself.
 */
export function serveClusterMetrics(own: Registry): () => Promise<string> {
  const aggregator = new AggregatorRegistry();
  const collect = async () => `${await aggregator.clusterMetrics()}\n${await own.metrics()}`;
  cluster.on('message', (worker, message: MetricsMessage) => {
    if (message?.type !== REQUEST) return;
    collect().then(
      (text) => worker.isConnected() && worker.send({ type: REPLY, id: message.id, text }),
      (error: Error) => worker.isConnected() && worker.send({ type: REPLY, id: message.id, error: error.message }),
    );
  });
  return collect;
}

/** Worker: reports `registry` to the primary's aggregation and returns a collector for /metrics. */
export function clusterMetricsCollector(registry: Registry): () => Promise<string> {
  // Constructing one installs prom-client's listener that answers the primary's collection requests.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  return () =>
    new Promise((resolve, reject) => {
      const id = randomUUID();
      const timer = setTimeout(() => {
        process.off('message', onMessage);
        reject(new Error('the primary did not answer the metrics request'));
      }, TIMEOUT_MS);
      const onMessage = (message: MetricsMessage) => {
        if (message?.type !== REPLY || message.id !== id) return;
        clearTimeout(timer);
        process.off('message', onMessage);
        if (message.error !== undefined) reject(new Error(message.error));
        else resolve(message.text ?? '');
      };
      process.on('message', onMessage);
      process.send!({ type: REQUEST, id });
    });
}
