package dev.flocker.agent.plan;

import dev.flocker.api.model.DatasetId;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * What to do, in order: each step's changes may run in parallel, and a step starts when the one before it ended.
 * {@code background} holds the long-running changes of moves (a pre-copy round, a handoff, or stopping a pre-copy): the
 * executor starts them beside the steps, one at a time per dataset, and wakes the loop when they end so that the
 * planner chooses what follows.
 *
 * @param holding   datasets whose applications' connections are held now (a handoff runs or is planned)
 * @param handedTo  datasets this host handed to another moments ago, by the node now owning them: their applications'
 *                  connections go there before it reports them running
 */
public record Plan(List<List<Change>> steps, List<Change> background, List<Wait> waits, Set<DatasetId> holding,
                   java.util.Map<DatasetId, dev.flocker.api.model.NodeId> handedTo) {
    public static final Plan NOTHING = new Plan(List.of(), List.of(), List.of(), Set.of());

    public Plan {
        steps = steps.stream().filter(s -> !s.isEmpty()).map(List::copyOf).toList();
        background = List.copyOf(background);
        waits = List.copyOf(waits);
        holding = Set.copyOf(holding);
        handedTo = java.util.Map.copyOf(handedTo);
    }

    public Plan(List<List<Change>> steps, List<Change> background, List<Wait> waits, Set<DatasetId> holding) {
        this(steps, background, waits, holding, java.util.Map.of());
    }

    public boolean isEmpty() {
        return steps.isEmpty() && background.isEmpty();
    }

    /** Every change of every step, in order, then the background ones. */
    public List<Change> changes() {
        var all = new ArrayList<Change>();
        steps.forEach(all::addAll);
        all.addAll(background);
        return all;
    }

    /** The changes of one kind, in plan order. */
    public <T extends Change> List<T> changes(Class<T> kind) {
        return changes().stream().flatMap(c -> kind.isInstance(c) ? Stream.of(kind.cast(c)) : Stream.empty()).toList();
    }
}
