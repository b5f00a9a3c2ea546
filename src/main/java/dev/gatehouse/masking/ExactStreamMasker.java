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
  private byte[] pending = EMPTY;

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
      replacements[i] =
          profile.styleFor("secret").apply(s.get(i), "secret").getBytes(StandardCharsets.UTF_8);
    }
  }

  @Override
  public byte[] feed(byte[] chunk) {
    if (secrets.length == 0) {
      return chunk;
    }
    return process(pending.length == 0 ? chunk : concat(pending, chunk), false);
  }

  @Override
  public byte[] flush() {
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
