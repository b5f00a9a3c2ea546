package dev.gatehouse.masking;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Masks a JSON document: first every value selected by a path (replaced whole, whatever its type,
 * with the profile's redaction), then by content: string and number values are scanned with the
 * profile's detectors, and scalar values of members named like secrets ({@code password}, {@code
 * api_key}, {@code client_secret}…) are redacted when the profile detects secret assignments.
 *
 * <p>Path syntax, a subset of JSONPath: {@code $}, {@code .name}, {@code ['name']}, {@code [n]},
 * {@code [*]} and {@code .*}; for example {@code $.customers[*].email}.
 */
final class JsonMasking {
  private static final Pattern SECRET_NAME =
      Pattern.compile(
          "(?i)[a-z0-9_.-]{0,40}?(?:passwd|password|passphrase|pwd|secret|token|api[_-]?key"
              + "|apikey|access[_-]?key|private[_-]?key|secret[_-]?key|client[_-]?secret"
              + "|auth[_-]?token|credentials?|session[_-]?key|signing[_-]?key)"
              // The word in other languages only whole or after a separator: "resenha" (review)
              // is not "senha".
              + "|(?:[a-z0-9_.-]{0,40}?[_.-])?(?:"
              + SecretDetectors.Assignment.OtherLanguages.WORDS
              + ")"
              // and in other scripts ({"пароль": "…"}, {"密码": "…"}), in either case
              + "|(?:[a-z0-9_.-]{0,40}?[_.-])?(?iu:"
              + SecretDetectors.NonLatinWords.SPACED
              + "|"
              + SecretDetectors.NonLatinWords.UNSPACED
              + ")");

  /**
   * Members named for a phone number ({@code phone}, {@code phoneNumber}, {@code customer_mobile},
   * {@code fax}): their value is read as if a phone word stood before it, so that a bare number
   * ({@code "02079460958"}, {@code 4155550100}) is masked as the phone detector's context part
   * masks {@code phone: 02079460958}. The short words only whole or after a separator ({@code
   * hotel} is not {@code tel}).
   */
  private static final Pattern PHONE_NAME =
      Pattern.compile(
          "(?i)(?:[a-z0-9_.-]{0,40}?(?:phone|mobile|msisdn)|(?:[a-z0-9_.-]{0,40}?[_.-])?"
              + "(?:tel|telephone|telefon|fax|cell))(?:[_.-]?(?:number|no|nr|num))?");

  private static final String PHONE_WORD = "phone: ";

  private JsonMasking() {}

  /** One step of a path: a member name, an index, or a wildcard (both null). */
  record Step(String name, Integer index) {
    boolean wildcard() {
      return name == null && index == null;
    }
  }

  static List<Step> parse(String path) {
    String p = path.trim();
    if (!p.startsWith("$")) {
      throw new IllegalArgumentException("JSON path '" + path + "' (expected: starts with $)");
    }
    List<Step> steps = new ArrayList<>();
    int i = 1;
    while (i < p.length()) {
      char c = p.charAt(i);
      if (c == '.') {
        int j = i + 1;
        while (j < p.length() && p.charAt(j) != '.' && p.charAt(j) != '[') {
          j++;
        }
        String name = p.substring(i + 1, j);
        if (name.isEmpty()) {
          throw new IllegalArgumentException("JSON path '" + path + "': empty name at " + i);
        }
        steps.add(name.equals("*") ? new Step(null, null) : new Step(name, null));
        i = j;
      } else if (c == '[') {
        int j = p.indexOf(']', i);
        if (j < 0) {
          throw new IllegalArgumentException("JSON path '" + path + "': missing ]");
        }
        String in = p.substring(i + 1, j).trim();
        if (in.equals("*")) {
          steps.add(new Step(null, null));
        } else if (in.startsWith("'") && in.endsWith("'") && in.length() >= 2
            || in.startsWith("\"") && in.endsWith("\"") && in.length() >= 2) {
          steps.add(new Step(in.substring(1, in.length() - 1), null));
        } else {
          try {
            steps.add(new Step(null, Integer.parseInt(in)));
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                "JSON path '" + path + "': [" + in + "] (expected: index, * or 'name')", e);
          }
        }
        i = j + 1;
      } else {
        throw new IllegalArgumentException(
            "JSON path '" + path + "': unexpected '" + c + "' at " + i);
      }
    }
    return steps;
  }

  static JsonNode mask(Profile profile, JsonNode doc, List<String> paths) {
    if (doc == null) {
      return null;
    }
    JsonNode copy = doc.deepCopy();
    for (String path : paths) {
      List<Step> steps = parse(path);
      if (steps.isEmpty()) {
        return TextNode.valueOf(profile.fallback.apply("", "json"));
      }
      byPath(profile, copy, steps, 0);
    }
    boolean names = profile.scanner.detectors().stream().anyMatch(d -> d.type.equals("assignment"));
    return byContent(profile, copy, names);
  }

  private static void byPath(Profile profile, JsonNode node, List<Step> steps, int at) {
    Step s = steps.get(at);
    boolean lastStep = at == steps.size() - 1;
    if (node instanceof ObjectNode o) {
      if (s.index() != null) {
        return;
      }
      List<String> names = new ArrayList<>();
      if (s.wildcard()) {
        o.fieldNames().forEachRemaining(names::add);
      } else if (o.has(s.name())) {
        names.add(s.name());
      }
      for (String name : names) {
        if (lastStep) {
          o.set(name, redacted(profile, o.get(name)));
        } else {
          byPath(profile, o.get(name), steps, at + 1);
        }
      }
    } else if (node instanceof ArrayNode a) {
      if (s.name() != null) {
        return;
      }
      for (int k = 0; k < a.size(); k++) {
        if (s.index() != null && s.index() != k) {
          continue;
        }
        if (lastStep) {
          a.set(k, redacted(profile, a.get(k)));
        } else {
          byPath(profile, a.get(k), steps, at + 1);
        }
      }
    }
  }

  private static JsonNode redacted(Profile profile, JsonNode value) {
    if (value == null || value.isNull()) {
      return value;
    }
    return TextNode.valueOf(profile.fallback.apply(value.asText(), "json"));
  }

  private static JsonNode byContent(Profile profile, JsonNode node, boolean names) {
    if (!profile.detectsContent()) {
      return node;
    }
    if (node.isTextual() || node.isNumber()) {
      String text = node.asText();
      String masked = profile.redact(text);
      return masked.equals(text) ? node : TextNode.valueOf(masked);
    }
    if (node instanceof ObjectNode o) {
      List<Map.Entry<String, JsonNode>> updates = new ArrayList<>();
      for (Map.Entry<String, JsonNode> e : o.properties()) {
        JsonNode v = e.getValue();
        JsonNode nv;
        if (names
            && v.isValueNode()
            && !v.isNull()
            && !v.isBoolean()
            && SECRET_NAME.matcher(e.getKey()).matches()) {
          nv = TextNode.valueOf(profile.styleFor("assignment").apply(v.asText(), "assignment"));
        } else if ((v.isTextual() || v.isNumber()) && PHONE_NAME.matcher(e.getKey()).matches()) {
          // read with the phone word before it and without (a .pgpass line, requirepass x)
          String text = v.asText();
          String masked = profile.redactAfter(PHONE_WORD, text);
          nv = masked.equals(text) ? v : TextNode.valueOf(masked);
        } else {
          nv = byContent(profile, v, names);
        }
        if (nv != v) {
          updates.add(Map.entry(e.getKey(), nv));
        }
      }
      updates.forEach(u -> o.set(u.getKey(), u.getValue()));
      return o;
    }
    if (node instanceof ArrayNode a) {
      for (int k = 0; k < a.size(); k++) {
        JsonNode nv = byContent(profile, a.get(k), names);
        if (nv != a.get(k)) {
          a.set(k, nv);
        }
      }
    }
    return node;
  }
}
