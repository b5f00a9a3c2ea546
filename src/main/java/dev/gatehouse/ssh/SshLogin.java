package dev.gatehouse.ssh;

/**
 * The SSH user name {@code IDENTITY+CONNECTION}: who logs in, and to which configured connection.
 * SSH carries exactly one user name (RFC 4252 section 5), so both travel in it. Split at the last
 * {@code +}: identities may contain {@code +} (mail sub-addresses), connection names may not.
 */
record SshLogin(String identity, String connection) {
  /** Longest user name accepted; OpenSSH's own limit for a login name is far lower. */
  static final int MAX_LENGTH = 512;

  /** The parsed login, or null when the name has no {@code +} or an empty part. */
  static SshLogin parse(String user) {
    if (user == null || user.length() > MAX_LENGTH) {
      return null;
    }
    int plus = user.lastIndexOf('+');
    if (plus <= 0 || plus == user.length() - 1) {
      return null;
    }
    return new SshLogin(user.substring(0, plus), user.substring(plus + 1));
  }

  static final String USAGE = "log in as IDENTITY+CONNECTION, for example ssh alice+web-1@gateway";
}
