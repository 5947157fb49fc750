# Shared shell helpers for the project's scripts. Source it; it defines functions only.

FLOCKER_ROOT=${FLOCKER_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
FLOCKER_CACHE=${FLOCKER_CACHE:-/var/cache/flocker}

say()  { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
info() { printf '    %s\n' "$*" >&2; }
die()  { printf 'error: %s\n' "$*" >&2; exit 1; }

require_root() {
  [ "$(id -u)" -eq 0 ] || die "$1 must run as root (it manages namespaces, ZFS pools and daemons); try: sudo $0 $*"
}

# A JDK's major version, from its release file when it has one (reading it takes a millisecond; starting a JVM to ask,
# the fallback, 0.15 s, paid twice by every bin/ command before).
java_major() {
  local v
  v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release" 2>/dev/null)
  if [ -z "$v" ]; then
    v=$("$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | cut -d. -f1)
  fi
  echo "$v"
}
# Prints the home of a JDK >= 21: JAVA_HOME if it qualifies, else the newest under /usr/lib/jvm.
find_java_home() {
  local best="" best_v=0 v h
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    v=$(java_major "$JAVA_HOME")
    if [ "${v:-0}" -ge 21 ]; then echo "$JAVA_HOME"; return 0; fi
  fi
  for h in /usr/lib/jvm/*/; do
    h=${h%/}
    [ -L "$h" ] && continue
    [ -x "$h/bin/javac" ] || continue
    v=$(java_major "$h")
    if [ "${v:-0}" -gt "$best_v" ]; then best_v=$v; best=$h; fi
  done
  if [ "$best_v" -ge 21 ]; then echo "$best"; return 0; fi
  echo "error: no JDK 21 or newer found (JAVA_HOME=${JAVA_HOME:-unset}; looked in /usr/lib/jvm). Install one, e.g. 'apt-get install openjdk-21-jdk' where available, or set JAVA_HOME." >&2
  return 1
}

use_java() {
  JAVA_HOME=$(find_java_home) || exit 1
  export JAVA_HOME PATH="$JAVA_HOME/bin:$PATH"
}

# Runs Maven in batch mode from the project root.
mvn_build() {
  use_java
  (cd "$FLOCKER_ROOT" && mvn -B -ntp "$@")
}

# Finds the newest jar of a module's runnable artifact, building the project when there is none.
runnable_jar() {
  local module=$1 artifact=$2 jar
  jar=$(ls -t "$FLOCKER_ROOT/$module/target/$artifact"-*-app.jar 2>/dev/null | head -1)
  if [ -z "$jar" ]; then
    say "no built $artifact found; building it (mvn package -DskipTests)"
    mvn_build -q -DskipTests -pl "$module" -am package >&2 || die "build of $module failed"
    jar=$(ls -t "$FLOCKER_ROOT/$module/target/$artifact"-*-app.jar 2>/dev/null | head -1)
    [ -n "$jar" ] || die "build of $module produced no $artifact-*-app.jar"
  fi
  echo "$jar"
}

# True when process $1 is alive. One that has exited but is not yet reaped (state Z: a daemon's parent is PID 1, which
# here reaps it up to ~2 s later) is not: waiting for it to vanish waited that long for nothing.
pid_alive() { kill -0 "$1" 2>/dev/null && [ "$(cut -d')' -f2 "/proc/$1/stat" 2>/dev/null | cut -d' ' -f2)" != Z ]; }

# True when the process whose pid is in file $1 is alive.
pidfile_alive() { [ -s "$1" ] && pid_alive "$(cat "$1")"; }

# Waits up to $2 seconds for command "$3..." to succeed.
wait_for() {
  local what=$1 secs=$2; shift 2
  local end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || return 1
    sleep 0.2
  done
}

# The JVM options our programs need so that neither the JVM nor a library warns at start-up: Hazelcast's access to
# JDK internals (it prints a multi-line warning without them), native access (Netty's BoringSSL, jsch), and
# sun.misc.Unsafe (Netty, Hazelcast; JDK 24 and newer warn on first use).
java_flags() {
  local v; v=$(java_major "$JAVA_HOME")
  printf '%s\n' --enable-native-access=ALL-UNNAMED --add-modules java.se \
    --add-exports java.base/jdk.internal.ref=ALL-UNNAMED --add-opens java.base/java.lang=ALL-UNNAMED \
    --add-opens java.base/sun.nio.ch=ALL-UNNAMED --add-opens java.management/sun.management=ALL-UNNAMED \
    --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED
  if [ "${v:-0}" -ge 24 ]; then printf '%s\n' --sun-misc-unsafe-memory-access=allow; fi
}

# Runs a module's runnable jar with the given arguments (the bin/ launchers use this).
launch_jar() { exec_jar no "$@"; }

# As launch_jar, for a long-running service (bin/flocker-control, bin/flocker-agent): from its start-up cache when one was
# trained (start_up_cache_options).
launch_service_jar() { exec_jar yes "$@"; }

# exec_jar yes|no MODULE ARTIFACT ARGS...: launch_jar's work; with "yes", from the artifact's start-up cache.
exec_jar() {
  local cached=$1 module=$2 artifact=$3; shift 3
  use_java
  local jar; jar=$(runnable_jar "$module" "$artifact")
  local flags; mapfile -t flags < <(java_flags)
  local aot=()
  if [ "$cached" = yes ]; then
    start_up_cache_options "$jar" "$artifact"
  fi
  exec "$JAVA_HOME/bin/java" "${flags[@]}" "${aot[@]}" ${FLOCKER_JAVA_OPTS:-} -jar "$jar" "$@"
}

# Sets the caller's array aot to the JVM options for JAR's ahead-of-time cache (JEP 483/514, JDK 25 or newer: its classes
# loaded and linked before), if one was trained; a control service is ready in 2.0-2.6 s with it instead of 4.7-5.1 s
# here (docs/OPERATIONS.md, "Start-up cache"). Only FLOCKER_AOT=train trains one (scripts/train-start-up-cache.sh does,
# on a throwaway control service): the JVM records as it runs and writes the cache when it exits normally (SIGTERM
# included, ~10 s more). A service is never trained while it serves: with one replica recording, a three-replica run at
# 100,000 datasets saw the reads' median go from 19 ms to 2.4 s (docs/BENCHMARKS.md). A new jar or JDK needs a cache of
# its own (named by both); training removes the artifact's others. FLOCKER_AOT=off starts without one.
start_up_cache_options() {
  local jar=$1 artifact=$2 v dir=$FLOCKER_CACHE/aot mode=${FLOCKER_AOT:-on}
  case $mode in
    on|off|train) ;;
    *) die "FLOCKER_AOT=$mode: expected on (the default: the start-up cache if one was trained), off or train" ;;
  esac
  v=$(java_major "$JAVA_HOME")
  if [ "$mode" = train ] && [ "${v:-0}" -lt 25 ]; then
    die "FLOCKER_AOT=train needs JDK 25 or newer (JAVA_HOME=$JAVA_HOME is $v)"
  fi
  [ "$mode" != off ] && [ "${v:-0}" -ge 25 ] && mkdir -p "$dir" 2>/dev/null && [ -w "$dir" ] || return 0
  local key cache lock
  key=$({ readlink -f "$jar"; stat -c '%s %Y' "$jar"; readlink -f "$JAVA_HOME"; cat "$JAVA_HOME/release"; } 2>/dev/null | sha256sum | cut -c1-16)
  cache=$dir/$artifact-$key.aot
  exec {lock}>"$dir/$artifact.lock"
  if [ "$mode" = train ] && flock -n "$lock"; then
    # The lock stays held by the JVM (the descriptor survives exec) until it has written the cache.
    find "$dir" -maxdepth 1 -name "$artifact-*.aot*" -delete 2>/dev/null || true
    aot=(-XX:AOTCacheOutput="$cache")
  elif [ "$mode" = train ]; then
    exec {lock}>&-
    printf 'warning: another start is training the start-up cache of %s (%s); this one starts without training\n' "$artifact" "$dir/$artifact.lock" >&2
  elif flock -n "$lock" && [ -s "$cache" ] && [ ! -e "$cache.config" ]; then
    exec {lock}>&- # trained, and not being written (.config is there until the JVM assembling it is done)
    aot=(-XX:AOTCache="$cache")
  else
    exec {lock}>&-
  fi
  # The cache's many warnings (classes it skips) are noise in a service's log; an unusable cache's errors are not.
  aot+=(-Xlog:aot*=error,cds*=error)
}

# run_test_main MODULE CLASS ARGS...: builds MODULE (and what it needs) and runs CLASS, a benchmark among its tests,
# with the module's test classpath (and FLOCKER_JAVA_OPTS, e.g. -Xlog:gc:file=bench-gc.log). Quiet logs: a benchmark
# prints its own report.
run_test_main() {
  local module=$1 class=$2; shift 2
  mvn_build -q -DskipTests -pl "$module" -am install
  local cp; cp=$(mktemp)
  mvn_build -q -pl "$module" dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cp"
  local m=$FLOCKER_ROOT/$module/target status=0
  "$JAVA_HOME/bin/java" -Dflocker.log.level=WARN -Dflocker.project.root="$FLOCKER_ROOT" ${FLOCKER_JAVA_OPTS:-} \
    -cp "$m/test-classes:$m/classes:$(cat "$cp")" "$class" "$@" || status=$?
  rm -f "$cp"
  return $status
}

# Runs a class of a module's runnable jar other than its main one (bin/flocker-ca uses this).
launch_class() {
  local module=$1 artifact=$2 class=$3; shift 3
  use_java
  local jar; jar=$(runnable_jar "$module" "$artifact")
  local flags; mapfile -t flags < <(java_flags)
  exec "$JAVA_HOME/bin/java" "${flags[@]}" ${FLOCKER_JAVA_OPTS:-} -cp "$jar" "$class" "$@"
}
