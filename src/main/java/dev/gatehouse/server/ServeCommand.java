package dev.gatehouse.server;

import dev.gatehouse.config.ConfigException;
import dev.gatehouse.config.ConfigLoader;
import dev.gatehouse.config.GatehouseConfig;
import dev.gatehouse.config.GatehouseConfig.UserConfig;
import dev.gatehouse.identity.IssuedToken;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code gatehouse serve}: run the gateway from a configuration file. */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = {
      "Run the gateway. Without --config, runs with defaults (embedded store in ./data).",
      "On first start with an empty store, writes an admin token for the first configured",
      "admin user to DATA_DIR/admin.token (mode 0600, valid 12 h) to bootstrap the API."
    })
public final class ServeCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(ServeCommand.class);

  @Option(
      names = {"-c", "--config"},
      description = "Configuration file (default: ./gatehouse.yaml if present).")
  Path config;

  @Override
  public Integer call() throws Exception {
    GatehouseConfig cfg;
    try {
      Path file = config != null ? config : Path.of("gatehouse.yaml");
      cfg =
          config != null || Files.exists(file)
              ? ConfigLoader.load(file)
              : ConfigLoader.defaults(Path.of("data"));
    } catch (ConfigException e) {
      System.err.println(e.getMessage());
      return 2;
    }
    Logging.apply(cfg.logging());
    GatehouseServer server = GatehouseServer.start(cfg);
    bootstrapAdminToken(server, cfg);
    CountDownLatch stop = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  log.info("stopping");
                  server.close();
                  stop.countDown();
                }));
    stop.await();
    return 0;
  }

  static void bootstrapAdminToken(GatehouseServer server, GatehouseConfig cfg) throws Exception {
    if (!server.tokens().list(true).isEmpty()) {
      return;
    }
    UserConfig admin =
        cfg.identity().users().stream()
            .filter(u -> "admin".equals(u.role()))
            .findFirst()
            .orElse(null);
    if (admin == null) {
      log.warn(
          "no admin user configured (identity.users[].role: admin): the API can only be used with"
              + " OIDC admins");
      return;
    }
    IssuedToken t =
        server.tokens().issueForUser(admin.subject(), Duration.ofHours(12), Set.of(), "bootstrap");
    Path f = cfg.server().dataDir().resolve("admin.token");
    Files.writeString(f, t.secret() + "\n");
    try {
      Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException ignored) {
      // non-POSIX
    }
    log.warn("first start: wrote an admin token for {} to {} (valid 12 h)", admin.subject(), f);
  }
}
