#!/usr/bin/env bash
# Runs the masking benchmarks against an older revision of the masking package in the same JVM:
# copies src/main/java/dev/gatehouse/masking and PgRowMasker at REF into a scratch copy of this
# module (package dev.gatehouse.bench.baseline), adds bench/jmh/baseline/*.java, builds, then runs
#   bench/jmh/compare-baseline.sh REF            # interleaved CPU-time A/B (MaskingAb), then JMH
#   bench/jmh/compare-baseline.sh REF ab 400     # only the A/B harness, 400 rounds
#   bench/jmh/compare-baseline.sh REF ab 100 notes   # one dataset (or a comma-separated list)
#   FORKS=3 bench/jmh/compare-baseline.sh REF ab 60  # three JVMs in turn
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
# PgRowMasker uses package-private postgres classes (PgBinaryValues.Form, PgCatalog), so REF's
# PgRowMasker and PgBinaryValues are copied into package dev.gatehouse.postgres of the benchmark
# module as BaselinePgRowMasker/BaselinePgBinaryValues (the shaded jar puts them next to the
# gateway's own postgres classes), wired to the baseline masking copy, and reached through a small
# public wrapper dev.gatehouse.bench.baseline.PgRowMasker (no catalog: table OIDs are 0 here).
pg="$work/src/main/java/dev/gatehouse/postgres"
mkdir -p "$pg"
git -C "$top" show "$ref:src/main/java/dev/gatehouse/postgres/PgBinaryValues.java" |
  sed -e 's/import dev\.gatehouse\.masking\./import dev.gatehouse.bench.baseline./' \
    -e 's/\bPgBinaryValues\b/BaselinePgBinaryValues/g' >"$pg/BaselinePgBinaryValues.java"
git -C "$top" show "$ref:src/main/java/dev/gatehouse/postgres/PgRowMasker.java" |
  sed -e 's/import dev\.gatehouse\.masking\./import dev.gatehouse.bench.baseline./' \
    -e 's/\bPgBinaryValues\b/BaselinePgBinaryValues/g' \
    -e 's/^final class PgRowMasker implements RowFilter {/public final class BaselinePgRowMasker implements RowFilter {/' \
    -e 's/^  PgRowMasker(MaskingEngine/  BaselinePgRowMasker(MaskingEngine/' >"$pg/BaselinePgRowMasker.java"
# a public factory (PgCatalog is package-private), in place of the last closing brace
sed -i '$ d' "$pg/BaselinePgRowMasker.java"
cat >>"$pg/BaselinePgRowMasker.java" <<'JAVA'
  public static BaselinePgRowMasker of(MaskingEngine engine, String profile, String connection) {
    return new BaselinePgRowMasker(engine, profile, connection, null);
  }
}
JAVA
cat >"$pkg/PgRowMasker.java" <<'JAVA'
package dev.gatehouse.bench.baseline;

public final class PgRowMasker {
  private final dev.gatehouse.postgres.BaselinePgRowMasker m;

  public PgRowMasker(MaskingEngine engine, String profile, String connection, Object catalog) {
    m = dev.gatehouse.postgres.BaselinePgRowMasker.of(engine, profile, connection);
  }

  public void onRowDescription(byte[] body) {
    m.onRowDescription(body);
  }

  public byte[] filterDataRow(byte[] body) {
    return m.filterDataRow(body);
  }

  public void onCopyOut(byte[] body) {
    m.onCopyOut(body);
  }

  public byte[] filterCopyData(byte[] body) {
    return m.filterCopyData(body);
  }
}
JAVA
cp "$here"/baseline/*.java "$work/src/main/java/dev/gatehouse/bench/"
(cd "$top" && ./mvnw -q -B install -DskipTests -Dspotless.check.skip=true)
(cd "$work" && "$top/mvnw" -q -B -f "$work/pom.xml" package)
jar="$work/target/benchmarks.jar"
if [ "${1:-}" = ab ]; then
  shift
  # FORKS=n runs the harness in n JVMs one after another: a JVM's compiled code for one side can
  # differ from the next JVM's by more than the change being measured (inlining decisions)
  for _ in $(seq "${FORKS:-1}"); do
    "$JAVA_HOME/bin/java" -cp "$jar" dev.gatehouse.bench.MaskingAb "$@"
  done
else
  "$JAVA_HOME/bin/java" -cp "$jar" dev.gatehouse.bench.MaskingAb
  "$JAVA_HOME/bin/java" -jar "$jar" 'Masking(Baseline)?Benchmark' "$@"
fi
