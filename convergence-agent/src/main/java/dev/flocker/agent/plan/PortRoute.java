package dev.flocker.agent.plan;

/** Where the planner wants one external port's new connections to go; the agent hands it to its routing proxy. */
public sealed interface PortRoute {

    /** To the application's container on this host. */
    record ToContainer(String address, int port) implements PortRoute {
    }

    /** To another host's proxy, at the same external port. */
    record ToHost(String host, int port) implements PortRoute {
    }

    /** Held (never refused) until the application answers somewhere: a handoff, or an application not running yet. */
    record Hold(String reason) implements PortRoute {
    }
}
