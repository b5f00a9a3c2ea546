package dev.gatehouse.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.util.Map;

/**
 * JSON with sorted keys and no whitespace, so that the same event always serializes to the same
 * bytes and its hash can be recomputed by anyone.
 */
final class CanonicalJson {
  static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .addModule(new JavaTimeModule())
          .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
          .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
          .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
          .build();

  private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {};

  private CanonicalJson() {}

  static String write(Object value) {
    // Every recorded statement is written here twice (its attributes and its decision event), on
    // the statement's path and the store thread's; Jackson's sorted-map serialization (a TreeMap
    // per map, serializer lookups) was a few percent of the gateway's CPU. The common values are
    // written directly, byte for byte as Jackson would (CanonicalJsonTest compares the two).
    StringBuilder out = new StringBuilder(256);
    if (direct(value, out, 0)) {
      return out.toString();
    }
    try {
      return MAPPER.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "audit data: cannot serialize a " + value.getClass().getName() + " as JSON", e);
    }
  }

  /** A JSON string literal, quoted and escaped; {@code null} for null. */
  static String string(String s) {
    if (s == null) {
      return "null";
    }
    StringBuilder out = new StringBuilder(s.length() + 2);
    quote(s, out);
    return out.toString();
  }

  /** Appends {@code s} as a JSON string literal, or {@code null}. */
  static void append(String s, StringBuilder out) {
    if (s == null) {
      out.append("null");
    } else {
      quote(s, out);
    }
  }

  /** Deeper than this, Jackson writes it (and refuses what is too deep). */
  private static final int MAX_DIRECT_DEPTH = 16;

  /**
   * Appends {@code value} as Jackson's canonical MAPPER would, for maps with string keys, lists,
   * strings, booleans, integral boxed numbers and null. Returns false (with {@code out} partly
   * written) for anything else, which Jackson then writes whole.
   */
  private static boolean direct(Object value, StringBuilder out, int depth) {
    if (depth > MAX_DIRECT_DEPTH) {
      return false;
    }
    switch (value) {
      case null -> out.append("null");
      case String s -> quote(s, out);
      case Boolean b -> out.append(b.booleanValue());
      case Long n -> out.append(n.longValue());
      case Integer n -> out.append(n.intValue());
      case Map<?, ?> m -> {
        // Entries, not keys: no lookup per key afterwards. Sorted by insertion for the small maps
        // recorded per statement (Arrays.sort's TimSort set-up cost more than the sorting).
        Map.Entry<?, ?>[] entries = m.entrySet().toArray(new Map.Entry<?, ?>[0]);
        for (Map.Entry<?, ?> e : entries) {
          if (!(e.getKey() instanceof String)) {
            return false;
          }
        }
        // ORDER_MAP_ENTRIES_BY_KEYS: natural (String) order.
        sortByKey(entries);
        out.append('{');
        for (int i = 0; i < entries.length; i++) {
          if (i > 0) {
            out.append(',');
          }
          quote((String) entries[i].getKey(), out);
          out.append(':');
          if (!direct(entries[i].getValue(), out, depth + 1)) {
            return false;
          }
        }
        out.append('}');
      }
      case java.util.List<?> l -> {
        out.append('[');
        int i = 0;
        for (Object e : l) {
          if (i++ > 0) {
            out.append(',');
          }
          if (!direct(e, out, depth + 1)) {
            return false;
          }
        }
        out.append(']');
      }
      default -> {
        return false;
      }
    }
    return true;
  }

  private static void sortByKey(Map.Entry<?, ?>[] entries) {
    if (entries.length > 32) {
      java.util.Arrays.sort(
          entries, (a, b) -> ((String) a.getKey()).compareTo((String) b.getKey()));
      return;
    }
    for (int i = 1; i < entries.length; i++) {
      Map.Entry<?, ?> e = entries[i];
      String k = (String) e.getKey();
      int j = i - 1;
      while (j >= 0 && ((String) entries[j].getKey()).compareTo(k) > 0) {
        entries[j + 1] = entries[j];
        j--;
      }
      entries[j + 1] = e;
    }
  }

  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  /**
   * A JSON string literal with Jackson's default escapes (RFC 8259 section 7): quote and backslash,
   * the two-character forms for backspace, tab, newline, form feed and carriage return, a
   * six-character escape (backslash, u, four upper-case hex digits) for the other control
   * characters, everything else (non-ASCII included) as is.
   */
  private static void quote(String s, StringBuilder out) {
    out.append('"');
    int n = s.length();
    int first = 0;
    while (first < n) {
      char c = s.charAt(first);
      if (c < 0x20 || c == '"' || c == '\\') {
        break;
      }
      first++;
    }
    if (first == n) {
      // The usual case: nothing to escape, one bulk copy.
      out.append(s).append('"');
      return;
    }
    out.append(s, 0, first);
    int start = first;
    for (int i = first; i < n; i++) {
      char c = s.charAt(i);
      if (c >= 0x20 && c != '"' && c != '\\') {
        continue;
      }
      out.append(s, start, i);
      start = i + 1;
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\b' -> out.append("\\b");
        case '\t' -> out.append("\\t");
        case '\n' -> out.append("\\n");
        case '\f' -> out.append("\\f");
        case '\r' -> out.append("\\r");
        default -> out.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xF]);
      }
    }
    out.append(s, start, n);
    out.append('"');
  }

  static Map<String, Object> readMap(String json) {
    try {
      return MAPPER.readValue(json, MAP);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("stored JSON is not an object: " + e.getOriginalMessage());
    }
  }
}
