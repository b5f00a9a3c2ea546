package dev.gatehouse.policy;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a caller wants to do, described by the protocol that received it.
 *
 * <p>Attributes are kind-specific and use the keys in {@link Attr}. Values are {@code String},
 * {@code Boolean}, {@code Long} or {@code List<String>}. Protocols fill them in; the policy's
 * per-kind matchers read them. The raw text is what was sent (already normalised by the protocol),
 * kept for recording and for review.
 */
public record Action(ActionKind kind, String raw, Map<String, Object> attributes) {

  public Action {
    Objects.requireNonNull(kind, "kind");
    raw = raw == null ? "" : raw;
    attributes = Map.copyOf(attributes);
  }

  public static Action connect() {
    return new Action(ActionKind.CONNECT, "", Map.of());
  }

  /**
   * This action with one attribute added or replaced. One immutable map built, not a mutable copy
   * and then an immutable one: the PostgreSQL gateway adds the search path and the parameters to
   * every statement it records.
   */
  public Action with(String key, Object value) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
    @SuppressWarnings("unchecked")
    Map.Entry<String, Object>[] entries = new Map.Entry[attributes.size() + 1];
    int n = 0;
    for (Map.Entry<String, Object> e : attributes.entrySet()) {
      if (!e.getKey().equals(key)) {
        entries[n++] = e;
      }
    }
    entries[n++] = Map.entry(key, value);
    return new Action(
        kind, raw, Map.ofEntries(n == entries.length ? entries : Arrays.copyOf(entries, n)));
  }

  public String string(String key) {
    Object v = attributes.get(key);
    return v == null ? null : v.toString();
  }

  public boolean flag(String key) {
    return Boolean.TRUE.equals(attributes.get(key));
  }

  @SuppressWarnings("unchecked")
  public List<String> list(String key) {
    Object v = attributes.get(key);
    if (v instanceof List<?> l) {
      return (List<String>) l;
    }
    return v == null ? List.of() : List.of(v.toString());
  }

  /** Well-known attribute keys, per action kind. */
  public static final class Attr {
    private Attr() {}

    /**
     * The requester's justification for a request held for review, as its protocol reads it: a
     * leading SQL comment ({@code /* justification: OPS-42 *}{@code /}), SSH's {@code
     * GATEHOUSE_JUSTIFICATION}, the exec API's field. Filed with the review; not part of the
     * request's fingerprint, so a re-run with another justification finds its approval.
     */
    public static final String JUSTIFICATION = "justification";

    // sql
    /** Statement kind, lower case: select, insert, update, delete, merge, create, ..., unknown. */
    public static final String SQL_KIND = "statement";

    /** For create/alter/drop: the object type (table, index, function, role, ...). */
    public static final String SQL_OBJECT_TYPE = "object_type";

    public static final String SQL_TABLES_READ = "tables_read";
    public static final String SQL_TABLES_WRITTEN = "tables_written";
    public static final String SQL_FUNCTIONS = "functions";

    /**
     * The called functions whose effects the classifier does not know (List of String):
     * user-defined ones, a built-in qualified with another schema. Filled by the PostgreSQL
     * classifier; named here so that a policy test can state it ({@code opaque_functions: []}).
     */
    public static final String SQL_OPAQUE_FUNCTIONS = "opaque_functions";

    /**
     * The called functions known to change nothing (List of String): PostgreSQL's read-only
     * built-ins ({@code now}, {@code lower}, {@code count}), unqualified or {@code pg_catalog.};
     * neither opaque nor a function whose effect decides the kind ({@code pg_read_file}). A review
     * rule with {@code functions} needs no other rule to admit these (PolicySet#otherParts). Filled
     * by the PostgreSQL classifier; absent (a policy test that does not state it), no call is taken
     * as read-only.
     */
    public static final String SQL_READ_ONLY_FUNCTIONS = "read_only_functions";

    /** For update/delete: whether a WHERE clause is present. */
    public static final String SQL_HAS_WHERE = "has_where";

    /** True when the statement could only be classified partially (treated as most dangerous). */
    public static final String SQL_UNPARSED = "unparsed";

    /**
     * Every kind a statement performs, its kind first: {@code INSERT ... ON CONFLICT DO UPDATE} is
     * [update, insert]. An allow rule must list every one, a deny or review rule any.
     */
    public static final String SQL_KINDS = "kinds";

    /**
     * The schemas, besides pg_catalog and public, in which an unqualified table or function name of
     * the statement may resolve: every schema the session's search_path has named (List of String).
     * An {@link #ANY_SCHEMA} entry means any schema (the path could not be read, or named too
     * many). Deny and review rules read a bare name in each; absent when the session's path was
     * never seen to name another schema.
     */
    public static final String SQL_SEARCH_PATH = "search_path";

    /** The {@link #SQL_SEARCH_PATH} entry for "any schema". */
    public static final String ANY_SCHEMA = "*";

    /**
     * A {@link #SQL_TABLES_READ} entry for "every table": the statement reads data of any table
     * (planner statistics hold sample values of every column). Every deny and review rule with
     * {@code tables} matches it; an allow rule with {@code tables} only through a glob matching
     * {@code *}.
     */
    public static final String ANY_TABLE = "*";

    // command / shell / file
    /** Resolved absolute path of the binary. */
    public static final String CMD_BINARY = "binary";

    /** Full argv, argv[0] first. */
    public static final String CMD_ARGV = "argv";

    /** Names of environment variables the caller asked to set. */
    public static final String CMD_ENV = "env";

    public static final String CMD_CWD = "cwd";

    /**
     * Where the path arguments of a command held for review lead on an ssh target, when somewhere
     * else than the words say: {@code "WORD" -> REAL} per word, shown to its reviewers and bound
     * into the approval's fingerprint (SshCommandPaths).
     */
    public static final String CMD_REAL_PATHS = "real_paths";

    /** True when the command string needs a shell (pipes, redirection, substitution, globs). */
    public static final String CMD_NEEDS_SHELL = "needs_shell";

    public static final String FILE_PATH = "path";

    /** read or write. */
    public static final String FILE_OP = "op";

    // http / mcp
    public static final String HTTP_METHOD = "method";
    public static final String HTTP_PATH = "path";
    public static final String MCP_TOOL = "tool";

    // forward
    /** local, remote, dynamic, agent, x11. */
    public static final String FORWARD_TYPE = "forward";

    /**
     * local: the host the target is asked to connect to (RFC 4254 section 7.2); remote: the address
     * it is asked to bind (section 7.1), as the client sent them.
     */
    public static final String FORWARD_HOST = "host";

    /** local: the port to connect to; remote: the port to bind (0: the target chooses). */
    public static final String FORWARD_PORT = "port";

    /**
     * Unix-domain socket forwarding (OpenSSH PROTOCOL section 2.4, streamlocal): local, the socket
     * the target is asked to connect to; remote, the socket it is asked to bind. Set instead of
     * {@link #FORWARD_HOST} and {@link #FORWARD_PORT}.
     */
    public static final String FORWARD_PATH = "path";
  }
}
