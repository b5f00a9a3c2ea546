#!/usr/bin/env bash
# Builds the gateway jar, then the JMH benchmarks, and runs them.
#   bench/jmh/run.sh                       # all benchmarks
#   bench/jmh/run.sh PolicyDecision -f 1   # a subset, JMH options pass through
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
source "$top/bin/find-java.sh"
export JAVA_HOME
(cd "$top" && ./mvnw -q -B install -DskipTests -Dspotless.check.skip=true)
(cd "$here" && "$top/mvnw" -q -B -f "$here/pom.xml" clean package)
exec "$JAVA_HOME/bin/java" -jar "$here/target/benchmarks.jar" "$@"
