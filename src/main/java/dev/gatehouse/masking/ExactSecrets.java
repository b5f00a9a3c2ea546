package dev.gatehouse.masking;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The literal forms in which an injected secret is looked for in a stream: the value itself, and
 * the encodings tools print credentials in without being asked to leak them (red team rt17x):
 *
 * <ul>
 *   <li>hexadecimal, in any case ({@code xxd -p}, debug dumps);
 *   <li>base64, standard and URL-safe alphabets (RFC 4648 sections 4 and 5), of any text that
 *       contains the value: an HTTP Basic {@code Authorization} header of {@code user:token}, a
 *       docker {@code auth} field, a kubeconfig's {@code token} re-encoded. Base64 turns each three
 *       bytes into four characters, so where the value starts in the encoded text decides its
 *       encoding; for each of the three offsets the characters that come from the value's bytes
 *       alone (whole groups of three inside it) are the same whatever surrounds it, and that run is
 *       what is looked for;
 *   <li>for a secret of several lines (an {@code as: file} secret such as a kubeconfig or a key),
 *       each token-like word of it, since a tool prints one line of such a file more often than all
 *       of it ({@code kubectl config view --raw}, {@code grep token}).
 * </ul>
 *
 * <p>The value itself and its hex form are matched in any case of their ASCII letters ({@link
 * Form#foldCase}): {@code tr a-z A-Z}, {@code xxd -u}, a tool that upper-cases what it echoes (a
 * header name, an environment dump) print the same secret, less one bit of each letter. The base64
 * forms are matched as they are: base64 is case-sensitive (RFC 4648 section 4, {@code a} and {@code
 * A} are 26 and 0), so an upper-cased base64 text is a different text, and matching it in any case
 * would only add chance matches. Matching in any case masks a little more than the exact value (a
 * secret that is an ordinary word in another case): the safe side.
 *
 * <p>A job that means to print a secret can always transform it first (split it, reverse it,
 * encrypt it); this covers the forms it takes by accident. Encodings of values shorter than {@link
 * #MIN_ENCODED_SOURCE} bytes are not added, nor runs shorter than {@link #MIN_RUN} characters: they
 * would match ordinary output.
 */
final class ExactSecrets {
  private ExactSecrets() {}

  /** Shortest value whose encodings are looked for. */
  static final int MIN_ENCODED_SOURCE = 12;

  /** Shortest encoded run looked for (four base64 groups, eight bytes of hex). */
  static final int MIN_RUN = 16;

  /** Most forms per stream: far above real use (a few secrets per connection), against blowup. */
  static final int MAX_FORMS = 4096;

  /** Words of a multi-line secret: long runs of key, token and base64 characters. */
  private static final Pattern WORD = Pattern.compile("[A-Za-z0-9+/=_.~-]{20,}");

  /**
   * One form looked for. {@code foldCase}: matched whatever the case of its ASCII letters (the
   * value and its hex form); base64 forms are not.
   */
  record Form(String text, boolean foldCase) {}

  /**
   * A form as the stream maskers look for it: {@code key} is its text, in lower case when it is
   * matched in any case (compared with the output's ASCII letters lowered); {@code form} the form
   * it came from (its text for the replacement).
   */
  record Match(String key, Form form) {
    boolean foldCase() {
      return form.foldCase();
    }
  }

  /**
   * {@code forms} as both stream maskers match them: empty ones left out, each key once (a folded
   * form wins over an exact one of the same key, and covers an exact one that is its text in lower
   * case), longest first, so that a secret is replaced before a shorter one inside it.
   */
  static List<Match> matches(List<Form> forms) {
    java.util.Map<String, Form> byKey = new java.util.LinkedHashMap<>();
    for (Form f : forms) {
      if (f == null || f.text() == null || f.text().isEmpty()) {
        continue;
      }
      String key = f.foldCase() ? asciiLower(f.text()) : f.text();
      byKey.merge(key, f, (a, b) -> a.foldCase() ? a : b);
    }
    List<Match> out = new java.util.ArrayList<>();
    byKey.forEach(
        (key, f) -> {
          Form folded = f.foldCase() ? null : byKey.get(asciiLower(key));
          if (folded == null || !folded.foldCase()) {
            out.add(new Match(key, f));
          }
        });
    out.sort(java.util.Comparator.comparingInt((Match m) -> m.key().length()).reversed());
    return out;
  }

  /** {@code s} with its ASCII letters in lower case (not {@code toLowerCase}: no other folding). */
  static String asciiLower(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      b.append(c >= 'A' && c <= 'Z' ? (char) (c + 32) : c);
    }
    return b.toString();
  }

  /** The texts of {@link #forms}. */
  static List<String> expand(Collection<String> secrets) {
    return forms(secrets).stream().map(Form::text).toList();
  }

  /**
   * Every form looked for, each once: a form matched in any case stands for its other cases too
   * (the upper-case hex form is the lower-case one).
   */
  static List<Form> forms(Collection<String> secrets) {
    Set<Form> out = new LinkedHashSet<>();
    for (String s : secrets) {
      if (s == null || s.isEmpty()) {
        continue;
      }
      addWithEncodings(out, s);
      if (s.indexOf('\n') >= 0) {
        Matcher m = WORD.matcher(s);
        while (m.find()) {
          if (!m.group().contains("://") && tokenLike(m.group())) {
            addWithEncodings(out, m.group());
          }
        }
      }
      if (out.size() > MAX_FORMS) {
        break;
      }
    }
    return new ArrayList<>(out);
  }

  /**
   * Upper and lower case letters and a digit, as random credentials and base64 data have: a
   * kubeconfig's context, cluster and user names ({@code gke_prod-project_us-central1}) are words
   * of the file too, printed by {@code kubectl config get-contexts}, and are not secret.
   */
  static boolean tokenLike(String w) {
    boolean upper = false;
    boolean lower = false;
    boolean digit = false;
    for (int i = 0; i < w.length(); i++) {
      char c = w.charAt(i);
      upper |= c >= 'A' && c <= 'Z';
      lower |= c >= 'a' && c <= 'z';
      digit |= c >= '0' && c <= '9';
    }
    return upper && lower && digit;
  }

  private static void addWithEncodings(Set<Form> out, String s) {
    out.add(new Form(s, true));
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    if (b.length < MIN_ENCODED_SOURCE) {
      return;
    }
    out.add(new Form(HexFormat.of().formatHex(b), true)); // in any case: upper too
    for (int skip = 0; skip < 3; skip++) {
      int groups = (b.length - skip) / 3;
      if (groups * 4 < MIN_RUN) {
        continue;
      }
      byte[] middle = Arrays.copyOfRange(b, skip, skip + groups * 3);
      out.add(new Form(Base64.getEncoder().withoutPadding().encodeToString(middle), false));
      out.add(new Form(Base64.getUrlEncoder().withoutPadding().encodeToString(middle), false));
    }
  }
}
