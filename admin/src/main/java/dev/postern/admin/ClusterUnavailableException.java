package dev.postern.admin;

/** The cluster's Redis cannot be reached now. Cheap: no stack trace. */
public final class ClusterUnavailableException extends Exception {
    private static final long serialVersionUID = 1L;

    public ClusterUnavailableException(String message) {
        super(message, null, false, false);
    }
}
