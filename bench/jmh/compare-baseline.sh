#!/usr/bin/env bash
# Runs the masking benchmarks against an older revision of the masking package in the same JVM:
# copies src/main/java/dev/gatehouse/masking and PgRowMasker at REF into a scratch copy of this
# module (package dev.gatehouse.bench.baseline), adds bench/jmh/baseline/*.java, builds, then runs
#   bench/jmh/compare-baseline.sh REF            # interleaved CPU-time A/B (MaskingAb), then JMH
#   bench/jmh/compare-baseline.sh REF ab 400     # only the A/B harness, 400 rounds
# The current tree's gateway jar is installed first (as run.sh does).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
ref=${1:?usage: compare-baseline.sh REF [ab [rounds] | JMH options]}
shift
source "$top/bin/find-java.sh"
export JAVA_HOME
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$here/pom.xml" "$here/src" "$work/"
pkg="$work/src/main/java/dev/gatehouse/bench/baseline"
mkdir -p "$pkg"
for f in $(git -C "$top" ls-tree --name-only "$ref" src/main/java/dev/gatehouse/masking/); do
  case "$f" in *package-info.java) continue ;; esac
  git -C "$top" show "$ref:$f" |
    sed -e 's/^package dev\.gatehouse\.masking;/package dev.gatehouse.bench.baseline;/' \
      -e 's/import static dev\.gatehouse\.masking\./import static dev.gatehouse.bench.baseline./' \
      >"$pkg/$(basename "$f")"
done
# PgRowMasker, detached from the postgres package (no catalog: table OIDs are 0 in the benchmark).
git -C "$top" show "$ref:src/main/java/dev/gatehouse/postgres/PgRowMasker.java" |
  sed -e 's/^package dev\.gatehouse\.postgres;/package dev.gatehouse.bench.baseline;/' \
    -e '/^import dev\.gatehouse\.masking\./d' \
    -e 's/^final class PgRowMasker implements RowFilter {/public final class PgRowMasker {/' \
    -e 's/private final PgCatalog catalog;/private final Object catalog;/' \
    -e 's/^  PgRowMasker(MaskingEngine engine, String profile, String connection, PgCatalog catalog) {/  public PgRowMasker(MaskingEngine engine, String profile, String connection, Object catalog) {/' \
    -e 's/qualified = tableOid == 0 ? null : catalog.table(tableOid);/qualified = null;/' \
    -e 's/^  @Override$//' >"$pkg/PgRowMasker.java"
cp "$here"/baseline/*.java "$work/src/main/java/dev/gatehouse/bench/"
(cd "$top" && ./mvnw -q -B install -DskipTests -Dspotless.check.skip=true)
(cd "$work" && "$top/mvnw" -q -B -f "$work/pom.xml" package)
jar="$work/target/benchmarks.jar"
if [ "${1:-}" = ab ]; then
  shift
  "$JAVA_HOME/bin/java" -cp "$jar" dev.gatehouse.bench.MaskingAb "$@"
else
  "$JAVA_HOME/bin/java" -cp "$jar" dev.gatehouse.bench.MaskingAb
  "$JAVA_HOME/bin/java" -jar "$jar" 'Masking(Baseline)?Benchmark' "$@"
fi
