package dev.gatehouse.ssh;

import dev.gatehouse.config.GatehouseConfig.UserConfig;
import dev.gatehouse.identity.Principal;
import dev.gatehouse.identity.PrincipalKind;
import dev.gatehouse.identity.SshKeyAuthenticator;
import java.security.PublicKey;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.PublicKeyEntryResolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Public keys from {@code identity.users[].ssh_keys}, fixed at start. The fallback until a
 * store-backed {@link SshKeyAuthenticator} is installed: key logins carry no token, so they cannot
 * be revoked one by one; removing the key needs a restart.
 */
final class SshConfiguredKeys implements SshKeyAuthenticator {
  private static final Logger log = LoggerFactory.getLogger(SshConfiguredKeys.class);

  private record Entry(UserConfig user, PublicKey key) {}

  private final List<Entry> entries;

  SshConfiguredKeys(List<UserConfig> users) {
    List<Entry> l = new java.util.ArrayList<>();
    for (UserConfig u : users) {
      for (String line : u.sshKeys()) {
        try {
          l.add(
              new Entry(
                  u,
                  PublicKeyEntry.parsePublicKeyEntry(line.trim())
                      .resolvePublicKey(null, Map.of(), PublicKeyEntryResolver.FAILING)));
        } catch (Exception e) {
          log.warn("ssh key of {} cannot be read; ignoring it: {}", u.subject(), e.toString());
        }
      }
    }
    entries = List.copyOf(l);
  }

  @Override
  public Principal authenticate(String subject, PublicKey key) {
    for (Entry e : entries) {
      if (e.user().subject().equals(subject) && KeyUtils.compareKeys(e.key(), key)) {
        UserConfig u = e.user();
        PrincipalKind kind =
            u.kind() == null || u.kind().isBlank()
                ? PrincipalKind.HUMAN
                : PrincipalKind.parse(u.kind());
        return new Principal(
            u.subject(),
            Set.copyOf(u.groups()),
            kind,
            null,
            null,
            Set.of(),
            u.role() == null ? Map.of() : Map.of("role", u.role()));
      }
    }
    return null;
  }
}
