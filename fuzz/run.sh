#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60) and fails if any of
# them finds a crash. Usage: fuzz/run.sh SECONDS [TARGET...]
#
# Works on a clean machine with rustup: installs the nightly toolchain and
# cargo-fuzz when they are missing (cargo-fuzz took about 60 s to install on a
# 2-core machine). Build output goes to fuzz/target, so it never mixes with the
# workspace's target/; the corpora the fuzzer grows live in fuzz/target/corpus
# (fuzz/corpus holds the checked-in seeds), crashes land in
# fuzz/artifacts/<target>/. Targets are built with `cargo fuzz -O` so that
# fuzz/Cargo.toml's profile decides about debug assertions (see there).
set -euo pipefail
cd "$(dirname "$0")"

seconds="${1:-60}"
shift || true
case "$seconds" in
  '' | *[!0-9]*) echo "usage: fuzz/run.sh SECONDS [TARGET...]" >&2; exit 2 ;;
esac

if ! rustup toolchain list | grep -q '^nightly'; then
  echo "== installing the nightly toolchain"
  rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  started=$SECONDS
  cargo install cargo-fuzz --locked
  echo "== cargo-fuzz installed in $((SECONDS - started))s"
fi

export CARGO_TARGET_DIR="$PWD/target"
if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo +nightly fuzz list --fuzz-dir .)
fi

started=$SECONDS
echo "== building ${targets[*]}"
if [ "$#" -gt 0 ]; then
  for target in "${targets[@]}"; do cargo +nightly fuzz build -O --fuzz-dir . "$target"; done
else
  cargo +nightly fuzz build -O --fuzz-dir .
fi
echo "== built in $((SECONDS - started))s"

mkdir -p logs
summary=()
failed=0
for target in "${targets[@]}"; do
  # New inputs go to target/corpus (the first directory); the checked-in
  # seeds under corpus/ are only read, so a run leaves the tree clean.
  mkdir -p "corpus/$target" "target/corpus/$target"
  log="logs/$target.log"
  dict=()
  if [ -f "$target.dict" ]; then dict=(-dict="$target.dict"); fi
  echo "== $target for ${seconds}s (log: fuzz/$log)"
  if cargo +nightly fuzz run -O --fuzz-dir . "$target" "target/corpus/$target" "corpus/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=1024 -print_final_stats=1 "${dict[@]}" >"$log" 2>&1; then
    status=ok
  else
    status=CRASH
    failed=1
    grep -E 'panicked|ERROR: libFuzzer|Test unit written to|SUMMARY' "$log" | head -5 || true
  fi
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' <<<"$last" | grep -oE '[0-9]+' || true)
  ft=$(grep -oE 'ft: [0-9]+' <<<"$last" | grep -oE '[0-9]+' || true)
  corp=$(grep -oE 'corp: [0-9]+' <<<"$last" | grep -oE '[0-9]+' || true)
  summary+=("$(printf '%-14s %-5s runs=%s cov=%s ft=%s corpus=%s' "$target" "$status" "${runs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}")")
done

echo "== summary (${seconds}s per target, ${SECONDS}s in all)"
printf '%s\n' "${summary[@]}"
exit "$failed"
