#!/usr/bin/env bash
# Runs the JMH micro-benchmarks and keeps the results as JSON under benchmarks/results/.
#
# Usage: benchmarks/jmh.sh [--no-build] [JMH ARGS...]
#   benchmarks/jmh.sh                       every benchmark (2 forks each, leak detection off; about 15 minutes)
#   benchmarks/jmh.sh Tls                   only the benchmarks matching a regexp
#   benchmarks/jmh.sh -f 1 -wi 1 -i 2 Relay fewer iterations while developing
#   java -jar benchmarks/target/benchmarks.jar -h   every JMH option
# The benchmarks are in benchmarks/src/main/java, in the packages of the code they measure. JMH never runs in
# "mvn verify"; this script builds the jar (mvn package) unless --no-build.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ ${1:-} == --no-build ]]; then
    shift
else
    (cd "$ROOT" && mvn -B -q -pl benchmarks -am package -DskipTests)
fi
mkdir -p "$ROOT/benchmarks/results"
out=$ROOT/benchmarks/results/jmh-$(date -u +%Y%m%d-%H%M%S).json
java -jar "$ROOT/benchmarks/target/benchmarks.jar" -rf json -rff "$out" "$@"
cp "$out" "$ROOT/benchmarks/results/jmh-latest.json"
echo "jmh: results in $out (and benchmarks/results/jmh-latest.json)"
