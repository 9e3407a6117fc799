#!/usr/bin/env bash
# Installs code-server 4.100.3 (VS Code 1.100.3; the last release that runs on Node 20) OUTSIDE the
# project's node_modules, into ${TERNARY_E2E_HOME:-/tmp/ternary-e2e}/code-server, for the tests in
# a real VS Code (docs/extension.md, test/e2e). Idempotent: does nothing when it is already there.
# Needs the Debian packages chromium ripgrep libkrb5-dev build-essential pkg-config.
set -euo pipefail

version=4.100.3
home="${TERNARY_E2E_HOME:-/tmp/ternary-e2e}"
prefix="$home/code-server"
bin="$prefix/node_modules/.bin/code-server"

if [ -x "$bin" ] && [ -f "$prefix/.installed-$version" ]; then
  echo "code-server $version already installed in $prefix"
  exit 0
fi

for tool in rg cc pkg-config; do
  command -v "$tool" >/dev/null || { echo "install-code-server: '$tool' is missing; apt-get install -y ripgrep build-essential pkg-config libkrb5-dev" >&2; exit 1; }
done

mkdir -p "$prefix" "$home/tmp"
export TMPDIR="$home/tmp"
# code-server writes a config file on first start, even for --version: keep it out of $HOME.
export XDG_CONFIG_HOME="$home/xdg/config" XDG_DATA_HOME="$home/xdg/data" XDG_CACHE_HOME="$home/xdg/cache"
# @vscode/ripgrep downloads rg from GitHub (unreachable here) unless it finds this cached tarball:
# give it Debian's rg under the name it looks for.
cache="$TMPDIR/vscode-ripgrep-cache-1.15.11"
mkdir -p "$cache"
if [ ! -f "$cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" ]; then
  staging="$(mktemp -d)"
  cp "$(command -v rg)" "$staging/rg"
  tar -czf "$cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$staging" rg
  rm -rf "$staging"
fi

cd "$prefix"
[ -f package.json ] || echo '{"name":"ternary-e2e-code-server","private":true}' > package.json
# code-server's postinstall refuses to run as root without unsafe-perm; node-pty's postinstall runs
# `npx node-gyp`, which must not prompt.
npm_config_unsafe_perm=true npm_config_yes=true \
  npm install --no-audit --no-fund --no-save --loglevel=error "code-server@$version"
"$bin" --version
touch "$prefix/.installed-$version"
