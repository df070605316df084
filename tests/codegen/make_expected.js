// Writes tests/codegen/expected/<model>.json: a fixed pseudo-random input for
// each test model and the outputs ONNX Runtime (the npm package
// onnxruntime-node, the project's test oracle) computes for it. The bundle
// test (bundle_build_test.cc) feeds the input to a built bin/score and
// compares. Run from the repository root after changing a model:
//   npm install --ignore-scripts --prefix .cache/node onnxruntime-node
//   NODE_PATH=.cache/node/node_modules node tests/codegen/make_expected.js
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

const root = path.resolve(__dirname, '..', '..');

// Inputs: rows of the first input, values on a 1e-3 grid so that the JSON
// text is exact in float32 for both sides.
const models = [
  {name: 'mlp', rows: 3, shape: [4]},
  {name: 'cnn', rows: 2, shape: [1, 8, 8]},
  {name: 'tree_classifier', rows: 5, shape: [2]},
  {name: 'linear_classifier', rows: 4, shape: [3]},
];

// ONNX Runtime's StringNormalizer needs the en_US.UTF-8 locale, which a bare
// machine lacks, so the text model's outputs are worked out by hand: LOWER and
// the stopwords {the, a} leave [reset, password, reset, password, login];
// TFIDF counts reset 2, password 2, login 1, "reset password" 2, times the
// weights [1, 1.5, 2, 3].
const handWorked = {
  text: {
    input: {data: [['Reset', 'the', 'PASSWORD', 'reset', 'password', 'login']]},
    outputs: {tfidf: {shape: [1, 4], values: [2, 3, 2, 6]}},
  },
};

// A small linear congruential generator: the same numbers on every machine.
let state = 12345;
function next() {
  state = (state * 1103515245 + 12345) % 2147483648;
  return state / 2147483648;
}

function nested(flat, dims) {
  if (dims.length === 0) return flat.shift();
  const out = [];
  for (let i = 0; i < dims[0]; ++i) out.push(nested(flat, dims.slice(1)));
  return out;
}

async function main() {
  for (const model of models) {
    const file = path.join(root, 'tests', 'onnx', 'models', model.name + '.onnx');
    const session = await ort.InferenceSession.create(file);
    const inputName = session.inputNames[0];
    let data;
    let tensor;
    if (model.strings) {
      data = model.strings;
      tensor = new ort.Tensor('string', data.flat(), [data.length, data[0].length]);
    } else {
      const perRow = model.shape.reduce((a, b) => a * b, 1);
      const flat = [];
      for (let i = 0; i < model.rows * perRow; ++i) {
        flat.push(Math.round((next() * 4 - 2) * 1000) / 1000);
      }
      tensor = new ort.Tensor('float32', Float32Array.from(flat), [model.rows, ...model.shape]);
      data = nested(flat.slice(), [model.rows, perRow]);
    }
    const results = await session.run({[inputName]: tensor});
    const outputs = {};
    for (const name of session.outputNames) {
      const t = results[name];
      const values = Array.from(t.data, (v) => (typeof v === 'bigint' ? Number(v) : v));
      outputs[name] = {shape: t.dims.map(Number), values};
    }
    const out = path.join(root, 'tests', 'codegen', 'expected', model.name + '.json');
    fs.writeFileSync(out, JSON.stringify({input: {data}, outputs}, null, 1) + '\n');
    console.log('wrote ' + out);
  }
  for (const [name, expected] of Object.entries(handWorked)) {
    const out = path.join(root, 'tests', 'codegen', 'expected', name + '.json');
    fs.writeFileSync(out, JSON.stringify(expected, null, 1) + '\n');
    console.log('wrote ' + out);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
