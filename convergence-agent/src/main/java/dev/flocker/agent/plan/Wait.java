package dev.flocker.agent.plan;

import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.NodeId;

/**
 * Something the configuration asks for that this host deliberately does not do yet, and why. Reported as a move in
 * phase "waiting" so that users see what blocks it.
 */
public record Wait(DatasetId dataset, NodeId from, NodeId to, String reason) {
}
