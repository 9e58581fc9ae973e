#!/usr/bin/env bash
# Fuzzes Postern's parsers of untrusted bytes with Jazzer: one target, or all of them one after another, each for
# DURATION (Jazzer's format: 30s, 5m, 2h). Prints per target the executions and the seconds fuzzed.
#
#   benchmarks/fuzz.sh TARGET|all DURATION        e.g. benchmarks/fuzz.sh imap-decoder 1h
#                                                  (TARGET may be a comma-separated list: sasl,spf-record)
#   benchmarks/fuzz.sh rotate:N DURATION           N targets, another N each day (what CI runs)
#   benchmarks/fuzz.sh list                        the targets
#
# What it keeps: the corpus each target grows, in <module>/.cifuzz-corpus/<class>/<method>/ (git-ignored, reused by
# the next run); a crash's input, written by Jazzer into the target's seed directory
# (src/test/resources/<package>/<Class>Inputs/<method>/crash-<sha1>), where `mvn verify` replays it from then on.
# Rename it found-<what>, fix the parser, and add a unit test. Logs go to benchmarks/run/fuzz/.
#
# Coverage instrumentation (and Jazzer's hooks) cover FUZZ_INCLUDES, Jazzer's glob list (default: Postern, Netty's
# codecs and Jackson, the code that parses); instrumenting every class a test loads costs start-up time and finds
# nothing in the test libraries. MVN_FLAGS (default -o) is passed to Maven. Exit status: 0 when no target found
# anything. Regression mode (the corpus only, in every `mvn verify`) runs with jazzer.hooks=false from the modules'
# junit-platform.properties: no instrumentation there.
set -euo pipefail
cd "$(dirname "$0")/.."

# name module class method
TARGETS="
imap-decoder     proxy  dev.postern.proxy.imap.ImapDecoderFuzzTest                decodesTheSameHoweverTheBytesArrive
pop3-decoder     proxy  dev.postern.proxy.pop3.Pop3DecoderFuzzTest                decodesTheSameHoweverTheBytesArrive
smtp-decoder     proxy  dev.postern.proxy.smtp.submission.SmtpLineDecoderFuzzTest decodesTheSameHoweverTheBytesArrive
edge-data        proxy  dev.postern.proxy.smtp.SmtpDecoderFuzzTest                passesOnExactlyOneUnambiguousMessageEnd
sasl             proxy  dev.postern.proxy.sasl.SaslServerExchangeFuzzTest         everyMechanismRefusesCleanlyOrRoundTrips
proxy-header     proxy  dev.postern.proxy.transport.ProxyHeaderParserFuzzTest     decidesOnceAndTheSameAtEveryPrefix
auth-http        proxy  dev.postern.proxy.auth.NginxAuthProtocolFuzzTest          anAnswerIsADecisionOrAnIoError
dns-response     proxy  dev.postern.proxy.dns.DnsResponseFuzzTest                 everyResponseBecomesAnAnswer
spf-record       proxy  dev.postern.proxy.dns.SpfRecordFuzzTest                   parsesOrRefusesAndExpandsWithinBounds
route-store-json config dev.postern.config.RouteStoreJsonFuzzTest                 aRouteStoreFileReadsBackAsWritten
admin-body-json  config dev.postern.config.AdminBodyJsonFuzzTest                  anAdminBodyReadsBackAsWritten
"

usage() {
    echo "usage: $0 TARGET[,TARGET...]|all|rotate:N DURATION   (targets: $0 list)" >&2
    exit 2
}

[ $# -ge 1 ] || usage
if [ "$1" = list ]; then
    echo "$TARGETS" | awk 'NF { print $1 }'
    exit 0
fi
[ $# -eq 2 ] || usage
target=$1
duration=$2
[[ "$duration" =~ ^[0-9]+(s|m|h)$ ]] || { echo "fuzz: DURATION must look like 30s, 5m or 2h" >&2; exit 2; }
seconds=${duration%?}
case $duration in *m) seconds=$((seconds * 60)) ;; *h) seconds=$((seconds * 3600)) ;; esac

if [[ "$target" =~ ^rotate:([0-9]+)$ ]]; then
    # N targets, a different N each day, so that short runs (CI's) reach every target in turn
    n=${BASH_REMATCH[1]}
    day=$(( $(date -u +%s) / 86400 ))
    selected=$(echo "$TARGETS" | awk -v n="$n" -v day="$day" 'NF { t[c++] = $0 }
        END { for (i = 0; i < n && i < c; i++) print t[(day * n + i) % c] }')
else
    selected=$(echo "$TARGETS" | awk -v t=",$target," 'NF && (t == ",all," || index(t, "," $1 ","))')
fi
[ -n "$selected" ] || { echo "fuzz: no target '$target' (see $0 list)" >&2; exit 2; }

logs=benchmarks/run/fuzz
mkdir -p "$logs"
includes=${FUZZ_INCLUDES:-dev.postern.**:io.netty.handler.codec.**:com.fasterxml.jackson.**}
read -r -a mvn_flags <<< "${MVN_FLAGS:--o}"

# One Maven run for all; each test class in a JVM of its own (Jazzer fuzzes one target per JVM).
modules=$(echo "$selected" | awk '{ print $2 }' | sort -u | paste -sd, -)
tests=$(echo "$selected" | awk '{ printf "%s%s#%s", sep, $3, $4; sep = "," }')
count=$(echo "$selected" | wc -l)
log="$logs/fuzz-$(date -u +%Y%m%dT%H%M%SZ).log"
echo "fuzz: $count target(s), $duration each, log $log"
# the wall-clock bound: every target's budget plus its start-up and seed replay, plus the build
bound=$((count * (seconds + 60) + 180))
touch "$log.start"
status=0
set +e
JAZZER_FUZZ=1 JAZZER_MAX_DURATION="$duration" JAZZER_INSTRUMENTATION_INCLUDES="$includes" \
    JAZZER_CUSTOM_HOOK_INCLUDES="$includes" timeout --kill-after=30 "$bound" \
    mvn -B "${mvn_flags[@]}" -pl "$modules" -am test \
    -Dtest="$tests" -Dsurefire.failIfNoSpecifiedTests=false -Dmaven.test.failure.ignore=true -DforkCount=1 -DreuseForks=false \
    -Dspotless.check.skip=true -Dspotless.apply.skip=true \
    -Djunit.jupiter.execution.timeout.mode=disabled -Djazzer.hooks=true > "$log" 2>&1
rc=$?
set -e
[ $rc -eq 0 ] || status=1
[ $rc -ne 124 ] || echo "fuzz: stopped at the bound of ${bound}s"
# per target: libFuzzer's "Done N runs in S second(s)" (or its last "#N" line) after surefire's "Running <class>"
while read -r name module class method; do
    stats=$(awk -v c="$class" '
        /^\[INFO\] Running / { current = ($NF == c) }
        current && /^#[0-9]+\t/ { last = substr($1, 2) }
        current && /^Done [0-9]+ runs in [0-9]+ second/ { runs = $2; secs = $5 }
        END { if (runs != "") print runs, secs; else if (last != "") print last, "?" }' "$log")
    corpus=$(find "$module/.cifuzz-corpus/$class/$method" -type f 2>/dev/null | wc -l)
    seeds="$module/src/test/resources/$(echo "${class%.*}" | tr . /)/${class##*.}Inputs/$method"
    crashes=$(find "$seeds" -name 'crash-*' -newer "$log.start" 2>/dev/null | wc -l)
    if [ -z "$stats" ]; then
        echo "fuzz: $name: no fuzzing statistics (see $log)"
        status=1
    else
        read -r runs secs <<< "$stats"
        echo "fuzz: $name: executions=$runs seconds=$secs corpus=$corpus new-crashes=$crashes"
        [ "$crashes" -eq 0 ] || echo "fuzz: $name: crash input(s) in $seeds"
    fi
done <<< "$selected"
if grep -qE '^\[ERROR\] Tests run:|FuzzTestFindingException' "$log"; then
    status=1
    grep -E '^\[ERROR\] Tests run:|FuzzTestFindingException' "$log" | head -20
fi
exit $status
