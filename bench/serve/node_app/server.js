// ONNX Runtime behind a Node http server: the Node + onnxruntime-node way to serve the model.
//   node server.js MODEL.onnx PORT [WORKERS]
// POST /score takes {"data": [[...], ...]} and answers {"outputs": {"Y": [[...], ...]}} (ferry's
// shape). WORKERS processes (node's cluster module; default: one per core, as `serve --threads`
// is) share the port, each with its own session on one intra-op thread. Keep-alive is Node's
// default. GET /healthz answers 200 once the session is loaded.
'use strict';
const cluster = require('cluster');
const http = require('http');
const os = require('os');
const path = require('path');

const [modelPath, port, workersArg] = process.argv.slice(2);
const workers = Number(workersArg || os.cpus().length);

if (cluster.isPrimary && workers > 1) {
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('exit', (worker, code) => {
    console.error(`worker ${worker.process.pid} exited with ${code}`);
    process.exit(1);
  });
} else {
  serve().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}

function answer(response, status, body) {
  response.writeHead(status, {'Content-Type': 'application/json',
                              'Content-Length': Buffer.byteLength(body)});
  response.end(body);
}

async function serve() {
  const ort = require(process.env.ORT_NODE_MODULE ||
                      path.join(__dirname, '../../../.cache/node/node_modules/onnxruntime-node'));
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential',
  });
  const input = session.inputNames[0];
  const output = session.outputNames[0];
  const server = http.createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/healthz') return answer(response, 200, '{}');
    if (request.method !== 'POST' || request.url !== '/score') {
      return answer(response, 404, '{"error":"not found"}');
    }
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', async () => {
      try {
        const rows = JSON.parse(Buffer.concat(chunks).toString('utf8')).data;
        const width = rows[0].length;
        const values = new Float32Array(rows.length * width);
        rows.forEach((row, i) => values.set(row, i * width));
        const result = await session.run({[input]: new ort.Tensor('float32', values,
                                                                  [rows.length, width])});
        const y = result[output];
        const cols = y.dims[1];
        const out = [];
        for (let i = 0; i < y.dims[0]; i++) out.push(Array.from(y.data.subarray(i * cols, (i + 1) * cols)));
        answer(response, 200, JSON.stringify({outputs: {[output]: out}}));
      } catch (error) {
        answer(response, 400, JSON.stringify({error: String(error)}));
      }
    });
  });
  server.listen(Number(port), '127.0.0.1');
}
