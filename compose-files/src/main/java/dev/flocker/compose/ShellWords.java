package dev.flocker.compose;

import java.util.ArrayList;
import java.util.List;

/**
 * A command written as one string, split into words as a POSIX shell (and Compose, with its shlex) would: white space
 * separates words, single quotes keep everything, double quotes keep everything but a backslash before {@code " \ $ `},
 * and a backslash outside quotes keeps the next character. Nothing is expanded: there is no shell.
 */
final class ShellWords {
    private ShellWords() {
    }

    static List<String> split(String text, String what) {
        var words = new ArrayList<String>();
        var word = new StringBuilder();
        boolean inWord = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\'') {
                int end = text.indexOf('\'', i + 1);
                if (end < 0) {
                    throw unclosed(what, "'", i);
                }
                word.append(text, i + 1, end);
                i = end;
                inWord = true;
            } else if (c == '"') {
                int j = i + 1;
                for (; j < text.length() && text.charAt(j) != '"'; j++) {
                    char d = text.charAt(j);
                    if (d == '\\' && j + 1 < text.length() && "\"\\$`".indexOf(text.charAt(j + 1)) >= 0) {
                        d = text.charAt(++j);
                    }
                    word.append(d);
                }
                if (j >= text.length()) {
                    throw unclosed(what, "\"", i);
                }
                i = j;
                inWord = true;
            } else if (c == '\\') {
                if (i + 1 < text.length()) {
                    word.append(text.charAt(++i));
                }
                inWord = true;
            } else if (Character.isWhitespace(c)) {
                if (inWord) {
                    words.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
            } else {
                word.append(c);
                inWord = true;
            }
        }
        if (inWord) {
            words.add(word.toString());
        }
        return words;
    }

    private static ConfigurationError unclosed(String what, String quote, int at) {
        return new ConfigurationError("'" + what + "' has a " + quote + " at character " + (at + 1) + " that is never closed; close it, or"
                + " write the command as a list of words.");
    }
}
