package dev.gatehouse.masking;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The stream masker of a profile that detects nothing: output passes byte for byte (binary output
 * such as {@code tar c} stays intact), except that the exact secrets are always replaced. The
 * secrets are matched as their UTF-8 bytes, also across chunks: only the longest tail that is the
 * start of a secret is held back until the next chunk or {@link #flush}.
 */
final class ExactStreamMasker implements StreamMasker {
  private static final byte[] EMPTY = new byte[0];

  private final byte[][] secrets; // longest first, so a longer secret wins over its prefix
  private final byte[][] replacements;

  /**
   * The first bytes of the secrets: a byte that starts none (most output) is passed over without
   * comparing it with each secret, of which {@link ExactSecrets} makes up to eight per value.
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
   * A held tail at least this long (or the whole secret but its last byte, for a shorter one) is
   * masked when it must be flushed: eight bytes that start a random credential are not a chance
   * match in ordinary output, a shorter tail may be (the {@code n} of {@code npm_}).
   */
  static final int MIN_PARTIAL = 8;

  ExactStreamMasker(Profile profile, List<String> exactSecrets) {
    List<String> s =
        exactSecrets.stream()
            .filter(x -> x != null && !x.isEmpty())
            .distinct()
            .sorted(Comparator.comparingInt(String::length).reversed())
            .toList();
    secrets = new byte[s.size()][];
    replacements = new byte[s.size()][];
    for (int i = 0; i < s.size(); i++) {
      secrets[i] = s.get(i).getBytes(StandardCharsets.UTF_8);
      starts[secrets[i][0] & 0xff] = true;
      replacements[i] =
          profile.styleFor("secret").apply(s.get(i), "secret").getBytes(StandardCharsets.UTF_8);
    }
  }

  @Override
  public byte[] feed(byte[] chunk) {
    if (secrets.length == 0) {
      return chunk;
    }
    if (contSecret >= 0) {
      chunk = continuation(chunk);
      if (chunk.length == 0) {
        return EMPTY;
      }
    }
    return process(pending.length == 0 ? chunk : concat(pending, chunk), false);
  }

  /** {@code chunk} less the rest of a secret whose start went out masked at a flush. */
  private byte[] continuation(byte[] chunk) {
    byte[] s = secrets[contSecret];
    int m = 0;
    while (m < chunk.length && contAt + m < s.length && chunk[m] == s[contAt + m]) {
      m++;
    }
    if (contAt + m == s.length) {
      contSecret = -1; // the rest arrived: it went out as part of the replacement
      return Arrays.copyOfRange(chunk, m, chunk.length);
    }
    if (m == chunk.length) {
      contAt += m; // more of it, still not the end
      return EMPTY;
    }
    contSecret = -1; // not the secret after all
    return chunk;
  }

  @Override
  public byte[] flush() {
    for (int k = 0; k < secrets.length && pending.length > 0; k++) {
      byte[] s = secrets[k];
      if (pending.length < s.length
          && pending.length >= Math.min(MIN_PARTIAL, s.length - 1)
          && Arrays.equals(pending, 0, pending.length, s, 0, pending.length)) {
        contSecret = k;
        contAt = pending.length;
        pending = EMPTY;
        return replacements[k];
      }
    }
    return process(pending, true);
  }

  /**
   * Replaces every complete secret in {@code data}; unless {@code last}, holds back the longest
   * tail after the last replacement that is the start of a secret.
   */
  private byte[] process(byte[] data, boolean last) {
    ByteArrayOutputStream out = null;
    int copied = 0;
    for (int i = 0; i < data.length; i++) {
      if (!starts[data[i] & 0xff]) {
        continue;
      }
      for (int k = 0; k < secrets.length; k++) {
        byte[] s = secrets[k];
        if (data[i] == s[0] && i + s.length <= data.length && regionMatches(data, i, s)) {
          if (out == null) {
            out = new ByteArrayOutputStream(data.length + 16);
          }
          out.write(data, copied, i - copied);
          out.writeBytes(replacements[k]);
          i += s.length - 1;
          copied = i + 1;
          break;
        }
      }
    }
    int hold = last ? 0 : heldTail(data, copied);
    int end = data.length - hold;
    pending = hold == 0 ? EMPTY : Arrays.copyOfRange(data, end, data.length);
    if (out == null) {
      return end == data.length ? data : Arrays.copyOf(data, end);
    }
    out.write(data, copied, end - copied);
    return out.toByteArray();
  }

  /** Length of the longest suffix of {@code data[from..]} that is a proper prefix of a secret. */
  private int heldTail(byte[] data, int from) {
    int best = 0;
    for (byte[] s : secrets) {
      for (int k = Math.min(s.length - 1, data.length - from); k > best; k--) {
        if (Arrays.equals(data, data.length - k, data.length, s, 0, k)) {
          best = k;
          break;
        }
      }
    }
    return best;
  }

  private static boolean regionMatches(byte[] data, int at, byte[] s) {
    return Arrays.equals(data, at, at + s.length, s, 0, s.length);
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] c = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }
}
