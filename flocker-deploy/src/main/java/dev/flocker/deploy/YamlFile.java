package dev.flocker.deploy;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * A YAML file read twice: as plain values (maps, lists, strings, numbers) for the parsers shared with the control
 * service, and as a node tree that keeps positions, so an error found in the values can be reported at the line and
 * column of what it names.
 */
final class YamlFile {
    private static final Pattern APPLICATION = Pattern.compile("Application '([^']+)'");
    private static final Pattern NODE = Pattern.compile("^Node \"?([^\" ]+)\"? ");
    private static final Pattern QUOTED = Pattern.compile("'([^']+)'|\"([^\"]+)\"");
    private static final Pattern LISTED = Pattern.compile("(?:keys found|keys|application name): ([^.]+)\\.");
    private static final Pattern ADDRESS = Pattern.compile("address ([0-9]+(?:\\.[0-9]+){3})");

    final Path path;
    final Object value;
    private final Node root;

    private YamlFile(Path path, Object value, Node root) {
        this.path = path;
        this.value = value;
        this.root = root;
    }

    static YamlFile read(Path path) {
        String text;
        try {
            text = Files.readString(path);
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new DeployException(path + ": not UTF-8 text (" + e.getMessage() + "); save the file as UTF-8");
        } catch (NoSuchFileException e) {
            throw new DeployException(path + ": no such file");
        } catch (IOException e) {
            throw new DeployException(path + ": cannot read it: " + e.getMessage());
        }
        return parse(path, text, Interpolation.beside(path));
    }

    static YamlFile parse(Path path, String text) {
        return parse(path, text, new Interpolation(Map.of()));
    }

    /**
     * Parses {@code text}: duplicate keys are errors (YAML would silently keep one), and every value has its variables
     * put in (Compose's interpolation) before the parsers see it.
     */
    static YamlFile parse(Path path, String text, Interpolation variables) {
        try {
            var options = new LoaderOptions();
            var root = yaml(options).compose(new StringReader(text));
            if (root == null) {
                throw new DeployException(path + ":1:1: the file is empty");
            }
            refuseDuplicateKeys(path, root);
            boolean changed = interpolate(path, root, variables);
            var value = yaml(options).load(changed ? serialized(root) : text);
            if (value == null) {
                throw new DeployException(path + ":1:1: the file is empty");
            }
            return new YamlFile(path, value, root);
        } catch (MarkedYAMLException e) {
            throw new DeployException(at(path, e.getProblemMark()) + "not valid YAML: " + e.getProblem());
        } catch (org.yaml.snakeyaml.error.YAMLException e) {
            throw new DeployException(path + ": not valid YAML: " + e.getMessage());
        }
    }

    private static Yaml yaml(LoaderOptions options) {
        var dumper = new org.yaml.snakeyaml.DumperOptions();
        return new Yaml(new SafeConstructor(options), new org.yaml.snakeyaml.representer.Representer(dumper), dumper, options, new CoreSchema());
    }

    /**
     * How Compose (Go's yaml.v3) reads plain scalars, YAML 1.2's core schema, rather than SnakeYAML's YAML 1.1:
     * {@code no}, {@code yes}, {@code on} and {@code off} are text (so {@code restart: no} means "no"), and
     * {@code 53:53} is text, not the sexagesimal number 3233. Only true and false are booleans.
     */
    static final class CoreSchema extends org.yaml.snakeyaml.resolver.Resolver {
        @Override
        protected void addImplicitResolvers() {
            addImplicitResolver(org.yaml.snakeyaml.nodes.Tag.BOOL, Pattern.compile("^(?:true|True|TRUE|false|False|FALSE)$"), "tTfF");
            addImplicitResolver(org.yaml.snakeyaml.nodes.Tag.INT,
                    Pattern.compile("^(?:[-+]?(?:0|[1-9][0-9_]*)|0o[0-7]+|0x[0-9a-fA-F]+)$"), "-+0123456789");
            addImplicitResolver(org.yaml.snakeyaml.nodes.Tag.FLOAT,
                    Pattern.compile("^(?:[-+]?(?:\\.[0-9]+|[0-9][0-9_]*(?:\\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\\.(?:inf|Inf|INF)|\\.(?:nan|NaN|NAN))$"),
                    "-+0123456789.");
            addImplicitResolver(org.yaml.snakeyaml.nodes.Tag.MERGE, MERGE, "<");
            addImplicitResolver(org.yaml.snakeyaml.nodes.Tag.NULL, NULL, "~nN\0");
            addImplicitResolver(org.yaml.snakeyaml.nodes.Tag.NULL, EMPTY, null);
        }
    }

    /** For typing values that variables were put into; a resolver is only read once built. */
    private static final CoreSchema CORE_SCHEMA = new CoreSchema();

    private static String serialized(Node root) {
        var text = new java.io.StringWriter();
        yaml(new LoaderOptions()).serialize(root, text);
        return text.toString();
    }

    /** A key given twice in one mapping: YAML keeps one of them, so the file would not deploy what it says. */
    private static void refuseDuplicateKeys(Path path, Node node) {
        if (node instanceof MappingNode mapping) {
            var seen = new java.util.HashMap<String, Mark>();
            for (var tuple : mapping.getValue()) {
                if (tuple.getKeyNode() instanceof ScalarNode key) {
                    var first = seen.putIfAbsent(key.getValue(), key.getStartMark());
                    if (first != null) {
                        throw new DeployException(at(path, key.getStartMark()) + "duplicate key '" + key.getValue() + "' (also at line "
                                + (first.getLine() + 1) + ", column " + (first.getColumn() + 1) + "): YAML would keep only one of them;"
                                + " remove or rename one");
                    }
                }
                refuseDuplicateKeys(path, tuple.getValueNode());
            }
        } else if (node instanceof SequenceNode sequence) {
            sequence.getValue().forEach(item -> refuseDuplicateKeys(path, item));
        }
    }

    /** Puts the variables into every value (not keys) in place; true when any value changed. */
    private static boolean interpolate(Path path, Node node, Interpolation variables) {
        boolean changed = false;
        if (node instanceof MappingNode mapping) {
            var tuples = mapping.getValue();
            for (int i = 0; i < tuples.size(); i++) {
                var value = tuples.get(i).getValueNode();
                var replaced = replaced(path, value, variables);
                if (replaced != value) {
                    tuples.set(i, new org.yaml.snakeyaml.nodes.NodeTuple(tuples.get(i).getKeyNode(), replaced));
                    changed = true;
                } else {
                    changed |= interpolate(path, value, variables);
                }
            }
        } else if (node instanceof SequenceNode sequence) {
            var items = sequence.getValue();
            for (int i = 0; i < items.size(); i++) {
                var replaced = replaced(path, items.get(i), variables);
                if (replaced != items.get(i)) {
                    items.set(i, replaced);
                    changed = true;
                } else {
                    changed |= interpolate(path, items.get(i), variables);
                }
            }
        }
        return changed;
    }

    /** A scalar with its variables put in (a new node), or {@code node} itself. */
    private static Node replaced(Path path, Node node, Interpolation variables) {
        if (!(node instanceof ScalarNode scalar) || scalar.getValue().indexOf('$') < 0) {
            return node;
        }
        String value;
        try {
            value = variables.apply(scalar.getValue());
        } catch (IllegalArgumentException e) {
            throw new DeployException(at(path, scalar.getStartMark()) + e.getMessage());
        }
        // A plain value that becomes a number stays one (cpu_shares: ${SHARES}); anything else stays text, as in Compose:
        // "yes" or "" put in by a variable must not turn into a boolean or a null.
        var tag = scalar.getTag();
        if (scalar.getScalarStyle() == org.yaml.snakeyaml.DumperOptions.ScalarStyle.PLAIN) {
            var resolved = CORE_SCHEMA.resolve(org.yaml.snakeyaml.nodes.NodeId.scalar, value, true);
            tag = resolved.equals(org.yaml.snakeyaml.nodes.Tag.INT) || resolved.equals(org.yaml.snakeyaml.nodes.Tag.FLOAT)
                    ? resolved : org.yaml.snakeyaml.nodes.Tag.STR;
        }
        return new ScalarNode(tag, value, scalar.getStartMark(), scalar.getEndMark(), scalar.getScalarStyle());
    }

    /** {@code message} prefixed with this file and the position of what it names (an application, a key, a value). */
    String locate(String message) {
        return at(path, position(message).orElse(root.getStartMark())) + message;
    }

    private static String at(Path path, Mark mark) {
        return mark == null ? path + ": " : path + ":" + (mark.getLine() + 1) + ":" + (mark.getColumn() + 1) + ": ";
    }

    Optional<Mark> position(String message) {
        Node scope = root;
        Mark scopeMark = null;
        String rest = message;
        var app = APPLICATION.matcher(message);
        var node = NODE.matcher(message);
        if (app.find()) {
            var key = findKey(root, app.group(1), 3);
            if (key != null) {
                scope = key.value;
                scopeMark = key.key.getStartMark();
            } else {
                // Named as a value (a deployment file's list): the duplicate is its last mention.
                var mentions = scalars(root, app.group(1));
                if (!mentions.isEmpty()) {
                    return Optional.of(mentions.get(message.contains("more than once") ? mentions.size() - 1 : 0).getStartMark());
                }
            }
            rest = message.substring(app.end());
        } else if (node.find()) {
            var key = findKey(root, node.group(1), 2);
            if (key != null) {
                scope = key.value;
                scopeMark = key.key.getStartMark();
            }
            rest = message.substring(node.end());
        }
        for (var name : mentioned(rest)) {
            var key = findKey(scope, name, 3);
            if (key != null) {
                return Optional.of(key.key.getStartMark());
            }
            var scalar = findScalar(scope, name);
            if (scalar != null) {
                return Optional.of(scalar.getStartMark());
            }
        }
        return Optional.ofNullable(scopeMark);
    }

    /** Names an error message mentions: quoted words, then the items of a list such as "Unrecognised keys: a, b.". */
    private static List<String> mentioned(String text) {
        var names = new ArrayList<String>();
        var quoted = QUOTED.matcher(text);
        while (quoted.find()) {
            names.add(quoted.group(1) != null ? quoted.group(1) : quoted.group(2));
        }
        var address = ADDRESS.matcher(text);
        while (address.find()) {
            names.add(address.group(1));
        }
        var listed = LISTED.matcher(text);
        while (listed.find()) {
            for (var item : listed.group(1).split(",")) {
                names.add(item.strip());
            }
        }
        if (text.contains("version")) {
            names.add("version"); // "Incorrect version specified."
        }
        return names;
    }

    private record KeyValue(ScalarNode key, Node value) {
    }

    /** The first mapping key equal to {@code name}, breadth first, at most {@code depth} mappings down. */
    private static KeyValue findKey(Node node, String name, int depth) {
        var level = List.of(node);
        for (int d = 0; d < depth && !level.isEmpty(); d++) {
            var next = new ArrayList<Node>();
            for (var n : level) {
                if (n instanceof MappingNode mapping) {
                    for (var tuple : mapping.getValue()) {
                        if (tuple.getKeyNode() instanceof ScalarNode key && key.getValue().equals(name)) {
                            return new KeyValue(key, tuple.getValueNode());
                        }
                        next.add(tuple.getValueNode());
                    }
                } else if (n instanceof SequenceNode sequence) {
                    next.addAll(sequence.getValue());
                }
            }
            level = next;
        }
        return null;
    }

    private static ScalarNode findScalar(Node node, String value) {
        var found = scalars(node, value);
        return found.isEmpty() ? null : found.get(0);
    }

    /** Every value (not key) scalar equal to {@code value}, in document order. */
    private static List<ScalarNode> scalars(Node node, String value) {
        var found = new ArrayList<ScalarNode>();
        collect(node, value, found);
        return found;
    }

    private static void collect(Node node, String value, List<ScalarNode> found) {
        if (node instanceof ScalarNode scalar) {
            if (scalar.getValue().equals(value)) {
                found.add(scalar);
            }
        } else if (node instanceof MappingNode mapping) {
            mapping.getValue().forEach(t -> collect(t.getValueNode(), value, found));
        } else if (node instanceof SequenceNode sequence) {
            sequence.getValue().forEach(child -> collect(child, value, found));
        }
    }
}
