// The same measurement through the Node binding (onnxruntime-node), for the
// figure beside the in-process C API one: the binding adds per-call overhead.
//   node ort_node_bench.js MODEL.onnx INPUT DIMS N BATCH
const path = require('path');
const ort = require(path.join(__dirname, '../../.cache/node/node_modules/onnxruntime-node'));

async function main() {
  const [model, input, dims, n, batch] = process.argv.slice(2);
  const shape = [Number(batch), ...dims.split(',').map(Number)];
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  let seed = 42;
  for (let i = 0; i < size; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    data[i] = seed / 2147483648;
  }
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential',
  });
  const feeds = {[input]: new ort.Tensor('float32', data, shape)};
  for (let i = 0; i < Math.min(20, Math.max(Number(n), 1)); i++) await session.run(feeds);
  const micros = [];
  for (let i = 0; i < Number(n); i++) {
    const start = process.hrtime.bigint();
    await session.run(feeds);
    micros.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  micros.sort((a, b) => a - b);
  const p99 = micros[Math.min(micros.length - 1, Math.floor(micros.length * 0.99))];
  console.log(`median_us=${micros[micros.length >> 1].toFixed(2)} p99_us=${p99.toFixed(2)} ` +
              `n=${n} batch=${batch}`);
}
main().catch((e) => { console.error(e); process.exit(1); });
