package dev.postern.proxy.metrics;

/** What the backend gauges read of a backend at each scrape; the routing's live backends implement it. */
public interface BackendGauge {
    /** The backend's pool. */
    String pool();

    /** The backend's id within its pool. */
    String id();

    /** Whether it passes its health checks now. */
    boolean healthy();

    /** Its live sessions now. */
    int sessions();
}
