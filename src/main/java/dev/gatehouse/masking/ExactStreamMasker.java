package dev.gatehouse.masking;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * The stream masker of a profile that detects nothing: output passes byte for byte (binary output
 * such as {@code tar c} stays intact), except that the exact secrets are always replaced. The
 * secrets are matched as their UTF-8 bytes, also across chunks: only the tail from where a secret
 * may be starting is held back until the next chunk or {@link #flush}.
 *
 * <p>Two ways a tool prints a secret without meaning to are read through, as the detecting masker
 * of the other profiles reads them ({@link TextStreamMasker.Visible}):
 *
 * <ul>
 *   <li>terminal escape sequences between its bytes ({@code ls --color}, {@code jq -C}, {@code grep
 *       --color} highlighting a part of it, npm's coloured log): a control sequence ({@code ESC [}
 *       parameter bytes 0x30-0x3F, intermediate bytes 0x20-0x2F, a final byte 0x40-0x7E; ECMA-48
 *       5.4), a control string ({@code ESC ]} OSC, {@code ESC P} DCS, {@code ESC X} SOS, {@code ESC
 *       ^} PM, {@code ESC _} APC, ended by ST {@code ESC \}; ECMA-48 5.6 and 8.3.143, or by BEL as
 *       xterm ends an OSC), or an escape sequence ({@code ESC}, intermediate bytes 0x20-0x2F, a
 *       final byte 0x30-0x7E: {@code ESC ( B} of {@code tput sgr0}; ECMA-35 13.1, ECMA-48 5.3).
 *       ECMA-48 sets no length limit; the ones read through here are bounded ({@link
 *       #MAX_SEQUENCE}, {@link #MAX_STRING}, {@link #MAX_SKIPPED} in all inside one secret), so
 *       that what is held back stays bounded. The 8-bit C1 forms (0x9B for CSI) are not read: in
 *       UTF-8 output that byte is a continuation byte;
 *   <li>a change of case of its ASCII letters ({@code tr a-z A-Z}), for the forms {@link
 *       ExactSecrets.Form#foldCase} says.
 * </ul>
 *
 * <p>A matched secret is replaced whole; the control and escape sequences inside it are sent after
 * the replacement, so that the terminal's colours stay as the tool left them, but the control
 * strings inside it (a window title, an OSC 8 link: they may carry any text) are dropped.
 *
 * <p>Cost: a byte that starts no secret (in either case) is passed over after one table look-up, as
 * before; ESC is not such a byte, so an escape sequence is only read while a secret's start is
 * being matched.
 */
final class ExactStreamMasker implements StreamMasker {
  private static final byte[] EMPTY = new byte[0];
  private static final byte ESC = 0x1b;

  /** Longest control or escape sequence read through: far more than {@code ESC[38;2;R;G;Bm}. */
  static final int MAX_SEQUENCE = 64;

  /**
   * Longest control string read through (an OSC 8 link with a short URL, a window title). Each
   * place a secret may start can read this far ahead, so it bounds the work per output byte too
   * (review of the eighteenth session: with 1,024 and 4,096 below, output made of escapes cost
   * about a thousand times the CPU per byte).
   */
  static final int MAX_STRING = 256;

  /** Most bytes of escape sequences inside one secret (a colour change for some characters). */
  static final int MAX_SKIPPED = 256;

  /** ASCII letters in lower case, other bytes as they are (not {@code Character}: bytes). */
  private static final byte[] LOWER = new byte[256];

  static {
    for (int i = 0; i < 256; i++) {
      LOWER[i] = (byte) (i >= 'A' && i <= 'Z' ? i + 32 : i);
    }
  }

  private final byte[][] secrets; // longest first, so a longer secret wins over its prefix
  private final boolean[] fold; // matched in any case: the secret's bytes are in lower case
  private final byte[][] replacements;

  /**
   * The first bytes of the secrets, both cases of a letter of a secret matched in any case: a byte
   * that starts none (most output) is passed over without comparing it with each secret, of which
   * {@link ExactSecrets} makes up to eight per value.
   */
  private final boolean[] starts = new boolean[256];

  private byte[] pending = EMPTY;

  /**
   * A secret whose start was masked at a {@link #flush} (the job paused inside it) and whose rest
   * is expected next: its index, and how much of it has gone out masked; -1 for none. Without this
   * the rest of the value came out in clear after the pause, and the start too (red team rt17x: 20
   * characters, a 1.5 s pause, the rest, with profile none).
   */
  private int contSecret = -1;

  private int contAt;

  /**
   * A held tail that starts at least this many of a secret's bytes (or the whole secret but its
   * last byte, for a shorter one) is masked when it must be flushed: eight bytes that start a
   * random credential are not a chance match in ordinary output, a shorter tail may be (the {@code
   * n} of {@code npm_}).
   */
  static final int MIN_PARTIAL = 8;

  /** {@link #match}: no match. */
  private static final int NO = -1;

  /** {@link #match}: the data ended inside the secret (or inside an escape sequence in it). */
  private static final int PARTIAL = -2;

  /** After a {@link #PARTIAL} match: how many of the secret's bytes were matched. */
  private int matchedTo;

  /**
   * After a {@link #PARTIAL} match: where an unfinished escape sequence at the end starts, or -1.
   */
  private int openEscape;

  /** The sequences to send after the replacement of the last match ({@link #match}). */
  private final ByteArrayOutputStream kept = new ByteArrayOutputStream();

  ExactStreamMasker(Profile profile, List<ExactSecrets.Form> exactSecrets) {
    List<ExactSecrets.Match> s = ExactSecrets.matches(exactSecrets);
    secrets = new byte[s.size()][];
    fold = new boolean[s.size()];
    replacements = new byte[s.size()][];
    for (int i = 0; i < s.size(); i++) {
      ExactSecrets.Match m = s.get(i);
      secrets[i] = m.key().getBytes(StandardCharsets.UTF_8);
      fold[i] = m.foldCase();
      int b = secrets[i][0] & 0xff;
      starts[b] = true;
      if (fold[i] && b >= 'a' && b <= 'z') {
        starts[b - 32] = true;
      }
      replacements[i] =
          profile
              .styleFor("secret")
              .apply(m.form().text(), "secret")
              .getBytes(StandardCharsets.UTF_8);
    }
  }

  @Override
  public byte[] feed(byte[] chunk) {
    if (secrets.length == 0) {
      return chunk;
    }
    byte[] data = pending.length == 0 ? chunk : concat(pending, chunk);
    pending = EMPTY;
    byte[] before = EMPTY;
    if (contSecret >= 0) {
      int r = match(data, 0, contSecret, contAt);
      if (r >= 0) {
        contSecret = -1; // the rest arrived: it went out as part of the replacement
        before = kept.toByteArray();
        data = Arrays.copyOfRange(data, r, data.length);
      } else if (r == PARTIAL) {
        contAt = matchedTo; // more of it, still not the end
        if (openEscape >= 0) {
          pending = Arrays.copyOfRange(data, openEscape, data.length);
        }
        return kept.toByteArray();
      } else {
        contSecret = -1; // not the secret after all
      }
    }
    byte[] out = process(data, false);
    return before.length == 0 ? out : concat(before, out);
  }

  @Override
  public byte[] flush() {
    if (contSecret >= 0) {
      // an unfinished escape sequence inside the rest of a masked secret: it waits for its end
      return EMPTY;
    }
    if (pending.length > 0 && starts[pending[0] & 0xff]) {
      for (int k = 0; k < secrets.length; k++) {
        byte[] s = secrets[k];
        if (firstMatches(pending[0], k)
            && match(pending, 0, k, 0) == PARTIAL
            && matchedTo >= Math.min(MIN_PARTIAL, s.length - 1)) {
          contSecret = k;
          contAt = matchedTo;
          pending =
              openEscape < 0 ? EMPTY : Arrays.copyOfRange(pending, openEscape, pending.length);
          return concat(replacements[k], kept.toByteArray());
        }
      }
    }
    return process(pending, true);
  }

  private boolean firstMatches(byte b, int k) {
    return (fold[k] ? LOWER[b & 0xff] : b) == secrets[k][0];
  }

  /**
   * Replaces every complete secret in {@code data}; unless {@code last}, holds back the tail from
   * the first place after the last replacement where a secret starts and runs to the end.
   */
  private byte[] process(byte[] data, boolean last) {
    ByteArrayOutputStream out = null;
    int copied = 0;
    int end = data.length;
    scan:
    for (int i = 0; i < data.length; i++) {
      if (data[i] == ESC) {
        // No secret starts inside a control or escape sequence: passed over whole, so that its
        // bytes are not each a start that reads through the sequences after it. Not control
        // strings (a window title, an OSC 8 link), whose text reaches the caller and may hold one.
        int e = i + 1 < data.length && controlString(data[i + 1]) ? 0 : escapeLength(data, i);
        if (e > 0) {
          i += e - 1;
        }
        continue;
      }
      if (!starts[data[i] & 0xff]) {
        continue;
      }
      for (int k = 0; k < secrets.length; k++) {
        if (!firstMatches(data[i], k)) {
          continue;
        }
        int r = match(data, i, k, 0);
        if (r >= 0) {
          if (out == null) {
            out = new ByteArrayOutputStream(data.length + 16);
          }
          out.write(data, copied, i - copied);
          out.writeBytes(replacements[k]);
          if (kept.size() > 0) {
            out.writeBytes(kept.toByteArray());
          }
          i = r - 1;
          copied = r;
          break;
        }
        if (r == PARTIAL && !last) {
          // A longer secret that may still come wins over a shorter one complete here; a secret
          // that starts later inside this tail is found when the tail is read again.
          end = i;
          break scan;
        }
      }
    }
    pending = end == data.length ? EMPTY : Arrays.copyOfRange(data, end, data.length);
    if (out == null) {
      return end == data.length ? data : Arrays.copyOf(data, end);
    }
    out.write(data, copied, end - copied);
    return out.toByteArray();
  }

  /**
   * Matches secret {@code k} from its byte {@code p} against {@code data} from {@code at}, reading
   * through escape sequences once the secret has begun (its first byte is never one).
   *
   * @return the end of the match in {@code data}, {@link #NO}, or {@link #PARTIAL} (then {@link
   *     #matchedTo} and {@link #openEscape} are set); {@link #kept} holds the sequences to send
   *     after the replacement
   */
  private int match(byte[] data, int at, int k, int p) {
    byte[] s = secrets[k];
    boolean f = fold[k];
    int n = data.length;
    int j = at;
    int skipped = 0;
    kept.reset();
    while (p < s.length) {
      if (j >= n) {
        matchedTo = p;
        openEscape = -1;
        return PARTIAL;
      }
      byte b = data[j];
      if ((f ? LOWER[b & 0xff] : b) == s[p]) {
        j++;
        p++;
        continue;
      }
      if (b != ESC || p == 0) {
        return NO;
      }
      if (skipped >= MAX_SKIPPED) {
        return NO;
      }
      int e = escapeLength(data, j);
      if (e == 0 || (skipped += Math.abs(e)) > MAX_SKIPPED) {
        return NO;
      }
      if (e < 0) {
        matchedTo = p;
        openEscape = j;
        return PARTIAL;
      }
      if (!controlString(data[j + 1])) {
        kept.write(data, j, e);
      }
      j += e;
    }
    return j;
  }

  private static boolean controlString(byte kind) {
    return kind == ']' || kind == 'P' || kind == 'X' || kind == '^' || kind == '_';
  }

  /**
   * The length of the escape sequence at {@code data[j]} (an ESC), or 0 when it is none or longer
   * than its bound, or minus the length so far when the data ends inside it.
   */
  static int escapeLength(byte[] data, int j) {
    int n = data.length;
    if (j + 1 >= n) {
      return -1;
    }
    byte kind = data[j + 1];
    if (kind == '[') {
      // CSI P..P I..I F (ECMA-48 5.4): parameter bytes, then intermediate bytes, then the final
      // byte; read as the terminal path reads it (TextStreamMasker.escapeEnd), any order
      for (int i = j + 2; i < n && i - j < MAX_SEQUENCE; i++) {
        int c = data[i] & 0xff;
        if (c >= 0x40 && c <= 0x7e) {
          return i + 1 - j;
        }
        if (c < 0x20 || c > 0x3f) {
          return 0;
        }
      }
      return n - j < MAX_SEQUENCE ? -(n - j) : 0;
    }
    if (controlString(kind)) {
      // a control string, ended by ST (ESC \) or, as xterm ends an OSC, BEL
      for (int i = j + 2; i < n && i - j < MAX_STRING; i++) {
        int c = data[i] & 0xff;
        if (c == 0x07) {
          return i + 1 - j;
        }
        if (c == ESC) {
          if (i + 1 >= n) {
            return -(n - j);
          }
          return data[i + 1] == '\\' ? i + 2 - j : 0;
        }
      }
      return n - j < MAX_STRING ? -(n - j) : 0;
    }
    // ESC I..I F: intermediate bytes 0x20-0x2F, then a final byte 0x30-0x7E (ECMA-35 13.1)
    for (int i = j + 1; i < n && i - j < MAX_SEQUENCE; i++) {
      int c = data[i] & 0xff;
      if (c >= 0x30 && c <= 0x7e) {
        return i + 1 - j;
      }
      if (c < 0x20 || c > 0x2f) {
        return 0;
      }
    }
    return n - j < MAX_SEQUENCE ? -(n - j) : 0;
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] c = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }
}
