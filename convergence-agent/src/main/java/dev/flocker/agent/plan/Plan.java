package dev.flocker.agent.plan;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * What to do, in order: each step's changes may run in parallel, and a step starts when the one before it ended.
 * Moves are long-running: the executor starts them in the background and they are not part of any step.
 */
public record Plan(List<List<Change>> steps, List<Change.MoveDataset> moves, List<Wait> waits) {
    public static final Plan NOTHING = new Plan(List.of(), List.of(), List.of());

    public Plan {
        steps = steps.stream().filter(s -> !s.isEmpty()).map(List::copyOf).toList();
        moves = List.copyOf(moves);
        waits = List.copyOf(waits);
    }

    public boolean isEmpty() {
        return steps.isEmpty() && moves.isEmpty();
    }

    /** Every change of every step, in order, then the moves. */
    public List<Change> changes() {
        var all = new ArrayList<Change>();
        steps.forEach(all::addAll);
        all.addAll(moves);
        return all;
    }

    /** The changes of one kind, in plan order. */
    public <T extends Change> List<T> changes(Class<T> kind) {
        return changes().stream().flatMap(c -> kind.isInstance(c) ? Stream.of(kind.cast(c)) : Stream.empty()).toList();
    }
}
