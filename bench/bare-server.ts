/**
 * The bare node:http reference for bench/serve.ts: the same work as smkit's k-means per request, done
 * minimally (parse the CSV rows, nearest of k centroids by Euclidean distance, and the same answer as
 * smkit's default `application/json`, `{"predictions":[{"closest_cluster":..,"distance_to_cluster":..}]}`,
 * with a Content-Length) with no framework, no negotiation, no validation, on the same number of
 * node:cluster processes.
 * Usage: node dist/bench/bare-server.js PORT WORKERS CENTROIDS_CSV
 */
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import http from 'node:http';

const [port, workers, centroidsFile] = process.argv.slice(2) as [string, string, string];

if (cluster.isPrimary && Number(workers) > 1) {
  for (let i = 0; i < Number(workers); i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    process.exit(0);
  });
} else {
  const rows = readFileSync(centroidsFile, 'utf8').trim().split('\n');
  const k = rows.length;
  const centers = Float64Array.from(rows.flatMap((line) => line.split(',').map(Number)));
  const dim = centers.length / k;
  http
    .createServer((req, res) => {
      if (req.url === '/ping') {
        res.end();
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        let out = '';
        for (const line of Buffer.concat(chunks).toString('utf8').split('\n')) {
          if (!line) continue;
          const x = line.split(',').map(Number);
          let best = 0;
          let bestDistance = Number.POSITIVE_INFINITY;
          for (let c = 0; c < k; c++) {
            let sum = 0;
            for (let j = 0; j < dim; j++) {
              const diff = x[j]! - centers[c * dim + j]!;
              sum += diff * diff;
            }
            if (sum < bestDistance) {
              bestDistance = sum;
              best = c;
            }
          }
          out += `${out ? ', ' : ''}{"closest_cluster": ${best}.0, "distance_to_cluster": ${Math.fround(Math.sqrt(bestDistance))}}`;
        }
        const body = `{"predictions": [${out}]}`;
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
        res.end(body);
      });
    })
    .listen(Number(port), '127.0.0.1');
}
