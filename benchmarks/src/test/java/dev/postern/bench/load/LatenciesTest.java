package dev.postern.bench.load;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LatenciesTest {
    @Test
    void percentilesAreNearestRank() {
        Latencies l = new Latencies();
        for (int i = 100; i >= 1; i--) {
            l.record(i * 1_000_000L);
        }
        Latencies.Summary s = l.summary();
        assertThat(s.p50()).isEqualTo(50_000_000L);
        assertThat(s.p90()).isEqualTo(90_000_000L);
        assertThat(s.p99()).isEqualTo(99_000_000L);
        assertThat(s.max()).isEqualTo(100_000_000L);
        assertThat(l.count()).isEqualTo(100);
    }

    @Test
    void aSingleValueIsEveryPercentile() {
        Latencies l = new Latencies();
        l.record(7);
        assertThat(l.summary()).isEqualTo(new Latencies.Summary(7, 7, 7, 7));
    }

    @Test
    void noValuesGiveZeros() {
        assertThat(new Latencies().summary()).isEqualTo(new Latencies.Summary(0, 0, 0, 0));
    }

    @Test
    void smallSamplesRoundTheRankUp() {
        long[] sorted = {10, 20, 30};
        assertThat(Latencies.percentile(sorted, 50)).isEqualTo(20);
        assertThat(Latencies.percentile(sorted, 90)).isEqualTo(30);
        assertThat(Latencies.percentile(sorted, 1)).isEqualTo(10);
    }

    @Test
    void growsPastItsInitialCapacity() {
        Latencies l = new Latencies();
        for (int i = 0; i < 5000; i++) {
            l.record(i);
        }
        assertThat(l.count()).isEqualTo(5000);
        assertThat(l.summary().max()).isEqualTo(4999);
    }
}
