package dev.flocker.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Compose's variable interpolation in values: {@code $VAR}, {@code ${VAR}}, {@code ${VAR:-default}} (unset or empty),
 * {@code ${VAR-default}} (unset), {@code ${VAR:?error}} / {@code ${VAR?error}} (required), {@code ${VAR:+alternative}} /
 * {@code ${VAR+alternative}}, and {@code $$} for a literal {@code $}. Variables come from the environment, then from a
 * {@code .env} file beside the application file (the environment wins), as Compose does.
 */
final class Interpolation {
    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern BRACED = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])(.*))?", Pattern.DOTALL);

    private final Map<String, String> variables;

    Interpolation(Map<String, String> variables) {
        this.variables = Map.copyOf(variables);
    }

    /** The environment over the {@code .env} file beside {@code file}, if there is one. */
    static Interpolation beside(Path file) {
        var variables = new HashMap<String, String>();
        var dotEnv = file.toAbsolutePath().resolveSibling(".env");
        if (Files.isRegularFile(dotEnv)) {
            variables.putAll(readDotEnv(dotEnv));
        }
        variables.putAll(System.getenv());
        return new Interpolation(variables);
    }

    /** {@code KEY=VALUE} lines; blank lines, {@code #} comments and an {@code export } prefix allowed; quotes removed. */
    static Map<String, String> readDotEnv(Path file) {
        var values = new HashMap<String, String>();
        try {
            int number = 0;
            for (var line : Files.readAllLines(file)) {
                number++;
                var text = line.strip();
                if (text.isEmpty() || text.startsWith("#")) {
                    continue;
                }
                if (text.startsWith("export ")) {
                    text = text.substring("export ".length()).strip();
                }
                int equals = text.indexOf('=');
                if (equals <= 0 || !NAME.matcher(text.substring(0, equals).strip()).matches()) {
                    throw new DeployException(file + ":" + number + ":1: expected NAME=value, got '" + line + "'");
                }
                var value = text.substring(equals + 1).strip();
                if (value.length() >= 2 && (value.startsWith("\"") && value.endsWith("\"") || value.startsWith("'") && value.endsWith("'"))) {
                    value = value.substring(1, value.length() - 1);
                }
                values.put(text.substring(0, equals).strip(), value);
            }
        } catch (IOException e) {
            throw new DeployException(file + ": cannot read it: " + e.getMessage());
        }
        return values;
    }

    /** {@code text} with its variables put in; an {@link IllegalArgumentException} saying what is wrong otherwise. */
    String apply(String text) {
        var out = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c != '$') {
                out.append(c);
                continue;
            }
            if (i + 1 < text.length() && text.charAt(i + 1) == '$') {
                out.append('$');
                i++;
            } else if (i + 1 < text.length() && text.charAt(i + 1) == '{') {
                int close = text.indexOf('}', i + 2);
                if (close < 0) {
                    throw new IllegalArgumentException("'" + text + "' has '${' without its '}' (write $$ for a literal $)");
                }
                out.append(braced(text.substring(i + 2, close), text));
                i = close;
            } else {
                var name = NAME.matcher(text).region(i + 1, text.length());
                if (name.lookingAt()) {
                    out.append(variables.getOrDefault(name.group(), ""));
                    i = name.end() - 1;
                } else {
                    throw new IllegalArgumentException("'" + text + "' has a '$' that starts no variable (write $$ for a literal $)");
                }
            }
        }
        return out.toString();
    }

    private String braced(String inside, String text) {
        var m = BRACED.matcher(inside);
        if (!m.matches()) {
            throw new IllegalArgumentException("'${" + inside + "}' in '" + text + "' is not a variable: use ${NAME}, ${NAME:-default} or ${NAME:?message}");
        }
        var name = m.group(1);
        var operator = m.group(2);
        var argument = m.group(3) == null ? "" : m.group(3);
        var value = variables.get(name);
        boolean set = value != null;
        boolean nonEmpty = set && !value.isEmpty();
        if (operator == null) {
            return set ? value : "";
        }
        return switch (operator) {
            case ":-" -> nonEmpty ? value : argument;
            case "-" -> set ? value : argument;
            case ":+" -> nonEmpty ? argument : "";
            case "+" -> set ? argument : "";
            case ":?", "?" -> {
                if (operator.equals(":?") ? !nonEmpty : !set) {
                    throw new IllegalArgumentException("variable " + name + " is required" + (argument.isEmpty() ? "" : ": " + argument)
                            + " (set it in the environment or in .env beside the file)");
                }
                yield value;
            }
            default -> throw new IllegalStateException(operator);
        };
    }
}
