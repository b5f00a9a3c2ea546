# Sourced by bin/gatehouse, .ci/run and bench scripts: sets JAVA_HOME to a JDK 21 or newer.
# Order: $JAVA_HOME, then java on PATH, then /usr/lib/jvm/*. Exits with advice when none is found.
_gh_java_major() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 |
    sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p' | head -n 1
}
_gh_ok() {
  [ -n "$1" ] && [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 1
  local v
  v=$(_gh_java_major "$1")
  [ -n "$v" ] && [ "$v" -ge 21 ]
}
_gh_pick() {
  if _gh_ok "${JAVA_HOME:-}"; then return 0; fi
  if command -v javac >/dev/null 2>&1; then
    local home
    home=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
    if _gh_ok "$home"; then JAVA_HOME=$home; return 0; fi
  fi
  local d best="" bestv=0 v
  for d in /usr/lib/jvm/*; do
    if _gh_ok "$d"; then
      v=$(_gh_java_major "$d")
      if [ "$v" -gt "$bestv" ]; then best=$d; bestv=$v; fi
    fi
  done
  if [ -n "$best" ]; then JAVA_HOME=$best; return 0; fi
  return 1
}
if ! _gh_pick; then
  echo "gatehouse: no JDK 21 or newer found (looked at JAVA_HOME, javac on PATH, /usr/lib/jvm)." >&2
  echo "gatehouse: install one, for example: apt-get install openjdk-21-jdk-headless (or Temurin 21+)," >&2
  echo "gatehouse: or point JAVA_HOME at it." >&2
  exit 1
fi
export JAVA_HOME
