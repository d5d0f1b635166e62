#!/usr/bin/env bash
# Builds the browser side of the site without cargo-leptos:
#   scripts/build-site.sh release|dev SITE_DIR
# WASM (cargo) -> wasm-bindgen -> wasm-opt (release, npm's binaryen) -> CSS (encre-css)
# -> public/ and vendored ECharts copied in -> .br/.gz written beside each bundle.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${1:?usage: build-site.sh release|dev SITE_DIR}
site=${2:?usage: build-site.sh release|dev SITE_DIR}
target_dir=${CARGO_TARGET_DIR:-target}

case "$profile" in
  release) cargo_profile=wasm-release; out_dir=wasm-release ;;
  dev)     cargo_profile=dev;          out_dir=debug ;;
  *) echo "error: profile must be release or dev, not '$profile'" >&2; exit 2 ;;
esac

echo "==> building the WASM client ($cargo_profile)"
cargo build -p frontend --lib --target wasm32-unknown-unknown --profile "$cargo_profile"

mkdir -p "$site/pkg" "$site/vendor"
wasm-bindgen --target web --no-typescript --out-dir "$site/pkg" --out-name tollgate \
  "$target_dir/wasm32-unknown-unknown/$out_dir/frontend.wasm"

if [ "$profile" = release ]; then
  echo "==> optimising with wasm-opt (npm binaryen; Debian's breaks hydration)"
  node_modules/.bin/wasm-opt -Oz --enable-reference-types --enable-bulk-memory \
    --enable-nontrapping-float-to-int --enable-sign-ext --enable-multivalue \
    -o "$site/pkg/tollgate_bg.wasm" "$site/pkg/tollgate_bg.wasm"
fi

echo "==> generating the stylesheet"
cargo run -q -p style -- "$site/pkg/tollgate.css"

cp -R public/. "$site/"
cp node_modules/echarts/dist/echarts.min.js "$site/vendor/echarts.min.js"
# The API docs page (/api/docs) is Swagger UI, served by the site like ECharts.
cp node_modules/swagger-ui-dist/swagger-ui-bundle.js "$site/vendor/swagger-ui-bundle.js"
cp node_modules/swagger-ui-dist/swagger-ui.css "$site/vendor/swagger-ui.css"

# Precompressed copies, served as they are when the browser accepts them.
node -e '
const fs = require("fs"), zlib = require("zlib"), path = require("path");
for (const dir of process.argv.slice(1)) for (const name of fs.readdirSync(dir)) {
  if (!/\.(js|wasm|css)$/.test(name)) continue;
  const file = path.join(dir, name), data = fs.readFileSync(file);
  fs.writeFileSync(file + ".gz", zlib.gzipSync(data, { level: 9 }));
  fs.writeFileSync(file + ".br", zlib.brotliCompressSync(data, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }));
}' "$site/pkg" "$site/vendor"

ls -l "$site/pkg" | awk 'NR > 1 { printf "    %-24s %9d bytes\n", $9, $5 }'
