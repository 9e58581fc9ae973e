package dev.postern.proxy.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** When a request has all the answers it waits for. */
class PendingRequestTest {
    private static final JsonNode ANSWER = Membership.JSON.createObjectNode();

    @Test
    void itIsDoneWhenEveryNodeAliveAndAsManyAsItReachedHaveAnswered() {
        PendingRequest p = new PendingRequest(false);
        p.expect(Set.of("b", "c"), 3);

        p.add("b", ANSWER);
        p.add("c", ANSWER);
        assertThat(p.done)
                .as("a third node got it: one that has not written its heartbeat yet")
                .isNotDone();

        p.add("d", ANSWER);
        assertThat(p.done).isDone();
        assertThat(p.snapshot()).containsOnlyKeys("b", "c", "d");
    }

    @Test
    void answersThatCameBeforePublishAnsweredCount() {
        PendingRequest p = new PendingRequest(false);
        p.add("b", ANSWER);
        assertThat(p.done).isNotDone();

        p.expect(Set.of("b"), 1);

        assertThat(p.done).isDone();
    }

    @Test
    void aNodeAliveThatIsNotReachedIsStillWaitedFor() {
        PendingRequest p = new PendingRequest(false);
        p.expect(Set.of("b", "c"), 1);
        p.add("b", ANSWER);

        assertThat(p.done).isNotDone();
    }

    @Test
    void aRequestForOneNodeIsDoneWithItsAnswerAlone() {
        PendingRequest p = new PendingRequest(true);
        p.expect(Set.of("c"), 3);
        p.add("b", ANSWER);
        assertThat(p.done).isNotDone();

        p.add("c", ANSWER);
        assertThat(p.done).isDone();
    }

    @Test
    void nobodyToWaitForIsDoneAtOnce() {
        PendingRequest p = new PendingRequest(true);
        p.expect(Set.of(), 2);

        assertThat(p.done).isDone();
    }
}
