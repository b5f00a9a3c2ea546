package dev.gatehouse.postgres;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Recognises statements that would lift a read-only obligation. The target enforces read-only
 * itself (the session opens with {@code default_transaction_read_only=on}); this guard stops the
 * caller from switching that off again.
 *
 * <p>It is deliberately coarse and errs towards refusing: any statement mentioning {@code
 * transaction_read_only} (other than SHOW), {@code READ WRITE}, {@code set_config} or a Unicode
 * escaped identifier ({@code U&"..."}, which could spell the setting's name in escapes) is refused
 * in a read-only session, even inside a string literal. It is not a SQL parser; the target's own
 * read-only mode remains the actual barrier for writes.
 */
final class PgReadOnly {
  private PgReadOnly() {}

  private static final Pattern BLOCK_COMMENT = Pattern.compile("/\\*.*?\\*/", Pattern.DOTALL);
  private static final Pattern LINE_COMMENT = Pattern.compile("--[^\\n]*");
  private static final Pattern SPACE = Pattern.compile("\\s+");

  /** True when {@code sql} could turn read-only mode off. */
  static boolean liftsReadOnly(String sql) {
    String s = sql.toLowerCase(Locale.ROOT);
    s = BLOCK_COMMENT.matcher(s).replaceAll(" ");
    s = LINE_COMMENT.matcher(s).replaceAll(" ");
    s = SPACE.matcher(s).replaceAll(" ").strip();
    if (s.contains("read write") || s.contains("set_config") || s.contains("u&\"")) {
      return true;
    }
    return s.contains("transaction_read_only") && !s.startsWith("show ");
  }
}
