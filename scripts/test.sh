#!/usr/bin/env bash
# Runs every check CI runs: gofmt, go vet, generated templ code is current, and
# all tests with the race detector, browser tests included (Debian's chromium
# is installed first when it is missing and we may use apt-get).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing Debian's chromium for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "warning: chromium is missing; browser tests will skip (install Debian's chromium)" >&2
  fi
fi

echo "== gofmt"
unformatted=$(gofmt -l $(find . -name '*.go' -not -path './.git/*'))
if [ -n "$unformatted" ]; then echo "gofmt would change:"; echo "$unformatted"; exit 1; fi

echo "== templ generated code is current"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# Generate a copy the way the README does (from the repository root, so the
# file names templ embeds are views/x.templ) and compare it with the tree.
mkdir "$tmp/root" && cp -r views "$tmp/root/views"
# (templ warns that the copy is outside the module; show its output only on failure)
if ! out=$(go tool templ generate -path "$tmp/root" 2>&1); then echo "$out"; exit 1; fi
if ! diff -r -q --exclude='*.templ' views "$tmp/root/views" >/dev/null; then
  echo "generated templ code is stale: run 'go tool templ generate' at the repository root and commit"
  diff -r -q --exclude='*.templ' views "$tmp/root/views" || true; exit 1
fi

echo "== go vet"
go vet ./...

echo "== go test -race"
go test -race -count=1 -timeout 20m ./...
