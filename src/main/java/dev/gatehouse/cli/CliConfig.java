package dev.gatehouse.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

/**
 * Where the CLI finds the gateway and its token: {@code GATEHOUSE_API}, {@code GATEHOUSE_TOKEN} and
 * {@code GATEHOUSE_CACERT} from the environment win (so CI jobs need no login step); otherwise the
 * login stored by {@code gatehouse login} in {@code $XDG_CONFIG_HOME/gatehouse/login.json} (default
 * {@code ~/.config/gatehouse/login.json}), written with 0600 permissions.
 */
record CliConfig(String api, String token, String caCert) {

  static final String DEFAULT_API = "https://127.0.0.1:8443";

  static CliConfig resolve(Map<String, String> env) {
    CliConfig stored = load(file(env));
    String api = firstNonBlank(env.get("GATEHOUSE_API"), stored == null ? null : stored.api());
    String token =
        firstNonBlank(env.get("GATEHOUSE_TOKEN"), stored == null ? null : stored.token());
    String ca = firstNonBlank(env.get("GATEHOUSE_CACERT"), stored == null ? null : stored.caCert());
    return new CliConfig(api == null ? DEFAULT_API : api, token, ca);
  }

  static Path file(Map<String, String> env) {
    String xdg = env.get("XDG_CONFIG_HOME");
    Path base =
        xdg != null && !xdg.isBlank()
            ? Path.of(xdg)
            : Path.of(System.getProperty("user.home"), ".config");
    return base.resolve("gatehouse").resolve("login.json");
  }

  static CliConfig load(Path f) {
    if (!Files.isRegularFile(f)) {
      return null;
    }
    try {
      var n = new ObjectMapper().readTree(f.toFile());
      return new CliConfig(text(n, "api"), text(n, "token"), text(n, "cacert"));
    } catch (IOException e) {
      throw new CliException(CliException.USAGE, f + ": unreadable login file: " + e.getMessage());
    }
  }

  /** Stores a login with owner-only permissions (written to a temp file, then moved). */
  static void store(Path f, CliConfig c) throws IOException {
    Files.createDirectories(f.getParent());
    ObjectMapper m = new ObjectMapper();
    ObjectNode n = m.createObjectNode();
    n.put("api", c.api());
    n.put("token", c.token());
    if (c.caCert() != null) {
      n.put("cacert", c.caCert());
    }
    Path tmp = Files.createTempFile(f.getParent(), "login", ".tmp");
    try {
      Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException ignored) {
      // non-POSIX file system: nothing more we can do
    }
    m.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), n);
    Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private static String text(com.fasterxml.jackson.databind.JsonNode n, String k) {
    return n.hasNonNull(k) ? n.get(k).asText() : null;
  }

  private static String firstNonBlank(String a, String b) {
    if (a != null && !a.isBlank()) {
      return a;
    }
    return b != null && !b.isBlank() ? b : null;
  }

  @Override
  public String toString() {
    return "CliConfig[api=" + api + ", token=" + (token == null ? "none" : "***") + "]";
  }
}
