package dev.gatehouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.policy.DisplayText;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Prints results either as a readable table or, with {@code --output json}, as JSON for scripts.
 * Values in tables and fields are shown through {@link DisplayText}: a statement or reason is the
 * requester's text, and its control characters must not rewrite the reader's terminal.
 */
final class Output {
  private Output() {}

  static void json(PrintStream out, JsonNode n) {
    try {
      out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(n));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Prints an array of objects as a table with the given columns (JSON field names). */
  static void table(PrintStream out, JsonNode rows, String... columns) {
    List<String[]> lines = new ArrayList<>();
    String[] header = new String[columns.length];
    for (int i = 0; i < columns.length; i++) {
      header[i] = columns[i].toUpperCase().replace('_', ' ');
    }
    lines.add(header);
    for (JsonNode row : rows) {
      String[] l = new String[columns.length];
      for (int i = 0; i < columns.length; i++) {
        l[i] = cell(row.get(columns[i]));
      }
      lines.add(l);
    }
    int[] w = new int[columns.length];
    for (String[] l : lines) {
      for (int i = 0; i < l.length; i++) {
        w[i] = Math.max(w[i], l[i].length());
      }
    }
    for (String[] l : lines) {
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < l.length; i++) {
        sb.append(i == l.length - 1 ? l[i] : String.format("%-" + w[i] + "s  ", l[i]));
      }
      out.println(sb.toString().stripTrailing());
    }
  }

  /** Prints one object as aligned {@code key: value} lines. */
  static void fields(PrintStream out, JsonNode obj) {
    int w = 0;
    for (var it = obj.fieldNames(); it.hasNext(); ) {
      w = Math.max(w, it.next().length());
    }
    for (var it = obj.fields(); it.hasNext(); ) {
      var e = it.next();
      // A multi-line statement stays readable; its further lines are indented under the value.
      out.printf(
          "%-" + (w + 1) + "s %s%n",
          e.getKey() + ":",
          DisplayText.lines(raw(e.getValue()), " ".repeat(w + 2)));
    }
  }

  /** A value as one table cell: control and invisible format characters escaped. */
  static String cell(JsonNode v) {
    return DisplayText.oneLine(raw(v));
  }

  private static String raw(JsonNode v) {
    if (v == null || v.isNull()) {
      return "-";
    }
    if (v.isArray()) {
      List<String> parts = new ArrayList<>();
      v.forEach(x -> parts.add(x.isValueNode() ? x.asText() : x.toString()));
      return String.join(",", parts);
    }
    return v.isValueNode() ? v.asText() : v.toString();
  }
}
