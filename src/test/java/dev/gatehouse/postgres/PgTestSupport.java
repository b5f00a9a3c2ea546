package dev.gatehouse.postgres;

import dev.gatehouse.audit.AuditEvent;
import dev.gatehouse.audit.AuditLog;
import dev.gatehouse.audit.SessionRecorder;
import dev.gatehouse.config.GatehouseConfig.ConnectionConfig;
import dev.gatehouse.config.GatehouseConfig.UpstreamRole;
import dev.gatehouse.config.GatehouseConfig.UpstreamTlsConfig;
import dev.gatehouse.config.Secret;
import dev.gatehouse.credential.CredentialVault;
import dev.gatehouse.gate.Gate;
import dev.gatehouse.gate.ReviewGate;
import dev.gatehouse.identity.AuthenticationException;
import dev.gatehouse.identity.Authenticator;
import dev.gatehouse.identity.Principal;
import dev.gatehouse.identity.PrincipalKind;
import dev.gatehouse.masking.MaskingEngine;
import dev.gatehouse.policy.Action;
import dev.gatehouse.policy.ActionKind;
import dev.gatehouse.policy.Decision;
import dev.gatehouse.policy.Effect;
import dev.gatehouse.policy.Obligations;
import dev.gatehouse.policy.PolicyEngine;
import dev.gatehouse.policy.PolicyRequest;
import dev.gatehouse.policy.PolicySet;
import dev.gatehouse.policy.ReviewRequirement;
import io.zonky.test.db.postgres.embedded.DefaultPostgresBinaryResolver;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import io.zonky.test.db.postgres.embedded.PgBinaryResolver;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZInputStream;
import org.tukaani.xz.XZOutputStream;

/**
 * Shared fixture for the gateway's integration tests: one embedded PostgreSQL 17 (the target, with
 * SCRAM, md5 and cleartext roles enforced by pg_hba), one real {@link Gate} with trivial in-memory
 * collaborators, and the gateway listening with a self-signed TLS certificate. Started once per
 * JVM.
 */
final class PgTestSupport {
  static final String UPSTREAM_PASSWORD = "Upstr3am-S3cret-9f2c71";
  static final String TOKEN_ALICE = "tok-alice-0001";
  static final String TOKEN_BENCH = "tok-bench-0002";
  static final String TOKEN_READER = "tok-reader-0003";

  /** Statement kinds the test policy allows for alice and reader; everything else is denied. */
  static final Set<String> ALLOWED =
      Set.of(
          "select",
          "insert",
          "update",
          "delete",
          "create",
          "transaction",
          "copy_in",
          "copy_out",
          "set",
          "show",
          "reset",
          "explain",
          "listen",
          "notify",
          "unlisten",
          "cursor",
          "discard",
          "deallocate",
          "prepare",
          "execute");

  private static PgTestSupport instance;

  final EmbeddedPostgres pg;
  final Gate gate;
  final PgProtocolServer server;
  final PgProtocolServer plaintextServer;
  final Map<String, ConnectionConfig> connections = new ConcurrentHashMap<>();
  final Map<String, Map<String, String>> vault = new ConcurrentHashMap<>();
  final Map<String, Principal> tokens = new ConcurrentHashMap<>();
  final Set<String> revoked = ConcurrentHashMap.newKeySet();
  final List<AuditEvent> audit = new CopyOnWriteArrayList<>();
  // Queues, not copy-on-write lists: a test pipelines 100,001 Parses, each recorded, and a
  // CopyOnWriteArrayList copies itself on every add (quadratic: most of that test's 30 s).
  final java.util.Queue<Decided> decided = new java.util.concurrent.ConcurrentLinkedQueue<>();
  final java.util.Queue<Outcome> outcomes = new java.util.concurrent.ConcurrentLinkedQueue<>();
  final AtomicLong policyGeneration = new AtomicLong();
  final Set<String> extraDenied = ConcurrentHashMap.newKeySet();

  record Decided(long id, String sessionId, Action action, String raw, Decision decision) {}

  record Outcome(long id, String status, String summary, long rows) {}

  static synchronized PgTestSupport get() throws Exception {
    if (instance == null) {
      instance = new PgTestSupport();
      Runtime.getRuntime().addShutdownHook(new Thread(instance::stop));
    }
    return instance;
  }

  /** The target's certificate (for localhost), and its PEM file for verify-full. */
  final SelfSigned targetCert;

  final Path targetCa;

  private PgTestSupport() throws Exception {
    targetCert = selfSigned();
    Path conf = Files.createTempDirectory("gh-pgconf");
    targetCa = conf.resolve("ca.pem");
    Files.writeString(targetCa, targetCert.pem(targetCert.cert()));
    pg = startTarget(conf, targetCert);
    try (Connection c = pg.getPostgresDatabase().getConnection();
        Statement s = c.createStatement()) {
      s.execute("SET password_encryption = 'scram-sha-256'");
      s.execute("CREATE ROLE gh_scram LOGIN SUPERUSER PASSWORD '" + UPSTREAM_PASSWORD + "'");
      s.execute("CREATE ROLE gh_pw LOGIN SUPERUSER PASSWORD '" + UPSTREAM_PASSWORD + "'");
      s.execute("SET password_encryption = 'md5'");
      s.execute("CREATE ROLE gh_md5 LOGIN SUPERUSER PASSWORD '" + UPSTREAM_PASSWORD + "'");
      s.execute("CREATE DATABASE gh_test OWNER gh_scram");
      s.execute("CREATE DATABASE gh_bench OWNER gh_scram");
      enableTls(s, targetCert);
    }
    addConnection("conn", "gh_test", "gh_scram", "prefer");
    addConnection("conn_md5", "gh_test", "gh_md5", "disable");
    addConnection("conn_pw", "gh_test", "gh_pw", "prefer");
    addConnection("bench", "gh_bench", "gh_scram", "prefer");
    addConnection("conn_require", "gh_test", "gh_scram", "require");
    connections.put(
        "conn_verify", withTls(connections.get("conn"), "conn_verify", "localhost", targetCa));
    vault.put("conn_verify", Map.of("password", UPSTREAM_PASSWORD));
    connections.put(
        "conn_verify_wronghost",
        withTls(connections.get("conn"), "conn_verify_wronghost", "127.0.0.1", targetCa));
    vault.put("conn_verify_wronghost", Map.of("password", UPSTREAM_PASSWORD));
    addConnection("conn_badpw", "gh_test", "gh_scram", "prefer");
    vault.put("conn_badpw", Map.of("password", "wrong-" + UPSTREAM_PASSWORD));
    addPrincipal(TOKEN_ALICE, "alice");
    addPrincipal(TOKEN_BENCH, "bench");
    addPrincipal(TOKEN_READER, "reader");

    gate =
        gateWith(() -> new TestPolicy())
            // A stand-in for the masking engine (tested on its own): proves what gets masked.
            .redactor((profile, text) -> text.replace("4111 1111 1111 1111", "[card]"))
            .reviews(
                (sessionId, principal, target, action, decision, waiting) -> {
                  waiting.held("rev-42", "ask a dba to approve it");
                  return new ReviewGate.Outcome(true, "rev-42", "approved by the test");
                })
            .build();
    server =
        new PgProtocolServer(
            gate, "127.0.0.1", 0, selfSigned().serverContext(), false, connections::get);
    server.start();
    plaintextServer = new PgProtocolServer(gate, "127.0.0.1", 0, null, true, connections::get);
    plaintextServer.start();
  }

  void addConnection(String name, String database, String user, String tlsMode) {
    connections.put(
        name,
        new ConnectionConfig(
            name,
            "postgres",
            "127.0.0.1",
            pg.getPort(),
            database,
            user,
            null,
            Map.of("env", "test"),
            new UpstreamTlsConfig(tlsMode, null),
            Map.of()));
    vault.put(name, Map.of("password", UPSTREAM_PASSWORD));
  }

  /**
   * {@link #addConnection} with the roles examples/policies/demo.yaml names ({@code writer}, {@code
   * reader}), both logging in as {@code user} too: tests of the demo policy are about what the
   * gateway decides, so the target must not refuse what the gateway lets through.
   */
  void addDemoConnection(String name, String database, String user) {
    addConnection(name, database, user, "prefer");
    Secret pw = new Secret(UPSTREAM_PASSWORD, "test");
    connections.put(
        name,
        connections
            .get(name)
            .withRoles(
                Map.of(
                    "writer", new UpstreamRole(user, pw, null),
                    "reader", new UpstreamRole(user, pw, null))));
    Map<String, String> fields = new HashMap<>(vault.get(name));
    for (String role : List.of("writer", "reader")) {
      fields.put("role." + role + ".username", user);
      fields.put("role." + role + ".password", UPSTREAM_PASSWORD);
    }
    vault.put(name, fields);
  }

  private static ConnectionConfig withTls(ConnectionConfig c, String name, String host, Path ca) {
    return new ConnectionConfig(
        name,
        c.type(),
        host,
        c.port(),
        c.database(),
        c.username(),
        null,
        c.labels(),
        new UpstreamTlsConfig("verify-full", ca),
        Map.of());
  }

  Principal addPrincipal(String token, String subject) {
    return addPrincipal(token, subject, Set.of("dev"));
  }

  /** A human principal of {@code groups} whose gateway token is {@code token}, for an hour. */
  Principal addPrincipal(String token, String subject, Set<String> groups) {
    Principal p =
        new Principal(
            subject,
            groups,
            PrincipalKind.HUMAN,
            "id-" + token,
            Instant.now().plus(Duration.ofHours(1)),
            Set.of(),
            Map.of());
    tokens.put(token, p);
    return p;
  }

  int port() {
    return server.address().getPort();
  }

  /**
   * A listener of its own for a test's {@code gate} (plaintext allowed), on this fixture's
   * connections, started; the test closes it.
   */
  PgProtocolServer serve(Gate gate) throws IOException {
    return serve(gate, null);
  }

  /** {@link #serve(Gate)}, its sessions masked by {@code engine} (null: not masked). */
  PgProtocolServer serve(Gate gate, MaskingEngine engine) throws IOException {
    PgProtocolServer s = new PgProtocolServer(gate, "127.0.0.1", 0, null, true, connections::get);
    if (engine != null) {
      s.masking(engine); // before start: sessions read it as they begin
    }
    s.start();
    return s;
  }

  /** Closes a test class's own listener and gate (nothing if its start failed before serving). */
  static void close(PgProtocolServer server, Gate gate) {
    if (server != null) {
      server.close();
      gate.close();
    }
  }

  /**
   * Writes {@code yaml} to the policy {@code file} that {@code engine} watches and reloads it now
   * (nothing when the file already holds it); asserts that a new generation is in force.
   */
  static void reload(dev.gatehouse.policy.ReloadingPolicyEngine engine, Path file, String yaml)
      throws Exception {
    if (Files.exists(file) && Files.readString(file).equals(yaml)) {
      return;
    }
    long before = engine.generation();
    Files.writeString(file, yaml);
    org.assertj.core.api.Assertions.assertThat(engine.reload()).isTrue();
    org.assertj.core.api.Assertions.assertThat(engine.generation()).isGreaterThan(before);
  }

  /** The policy {@code yaml}, written to {@code file} in {@code dir} and loaded from there. */
  static PolicySet policy(Path dir, String file, String yaml) throws Exception {
    Path p = dir.resolve(file);
    Files.writeString(p, yaml);
    return PolicySet.load(List.of(p.toString()));
  }

  /** A plaintext JDBC connection to {@code db} through {@code server}; {@code extra}: "&k=v…". */
  static Connection plainJdbc(
      PgProtocolServer server, String db, String user, String token, String extra)
      throws SQLException {
    return DriverManager.getConnection(
        "jdbc:postgresql://127.0.0.1:"
            + server.address().getPort()
            + "/"
            + db
            + "?sslmode=disable&user="
            + user
            + "&password="
            + token
            + extra);
  }

  /** A JDBC connection through the gateway (TLS, not verified). */
  Connection jdbc(String db, String user, String token, String extra) throws SQLException {
    return DriverManager.getConnection(jdbcUrl(db, user, token, extra));
  }

  String jdbcUrl(String db, String user, String token, String extra) {
    return "jdbc:postgresql://127.0.0.1:"
        + port()
        + "/"
        + db
        + "?sslmode=require&user="
        + user
        + "&password="
        + token
        + (extra.isEmpty() ? "" : "&" + extra);
  }

  /**
   * A new database {@code db} owned by gh_scram (dropped first, with its connections), set up with
   * {@code sql} over a direct connection.
   */
  void freshDatabase(String db, String sql) throws SQLException {
    try (Connection c = direct("postgres");
        Statement s = c.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
      s.execute("CREATE DATABASE " + db + " OWNER gh_scram");
    }
    try (Connection c = direct(db);
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  /** A direct JDBC connection to the target, bypassing the gateway (for checking its state). */
  Connection direct(String db) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", "postgres");
    return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/" + db, p);
  }

  record Run(int exit, String out, String err) {
    String all() {
      return out + "\n" + err;
    }
  }

  /** Runs a real client binary (psql, pgbench) with the gateway token as PGPASSWORD. */
  static Run run(String token, Map<String, String> env, List<String> command) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().keySet().removeIf(k -> k.startsWith("PG"));
    pb.environment().put("PGPASSWORD", token);
    pb.environment().put("PGCONNECT_TIMEOUT", "10");
    pb.environment().putAll(env);
    Path out = Files.createTempFile("pg-out", ".txt");
    Path err = Files.createTempFile("pg-err", ".txt");
    pb.redirectOutput(out.toFile()).redirectError(err.toFile());
    pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    Process p = pb.start();
    if (!p.waitFor(180, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("timed out: " + command);
    }
    Run r = new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    Files.deleteIfExists(out);
    Files.deleteIfExists(err);
    return r;
  }

  Run psql(String token, String user, String db, String sslmode, String... args) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add("/usr/bin/psql");
    cmd.add(
        "host=127.0.0.1 port="
            + port()
            + " dbname="
            + db
            + " user="
            + user
            + " sslmode="
            + sslmode);
    cmd.addAll(List.of("-X", "-A", "-t", "-v", "VERBOSITY=verbose"));
    cmd.addAll(List.of(args));
    return run(token, Map.of(), cmd);
  }

  void stop() {
    try {
      server.close();
      plaintextServer.close();
      gate.close();
      pg.close();
    } catch (Exception e) {
      // shutting down the JVM anyway
    }
  }

  // ---- target ----

  /**
   * Turns on TLS at the target: the certificate and key go into the data directory, owned by the
   * server's user (which differs from ours when the tests run as root) with mode 0600, as
   * PostgreSQL demands of a key; then the configuration is reloaded.
   */
  private static void enableTls(Statement s, SelfSigned cert) throws Exception {
    Path dataDir;
    try (ResultSet rs = s.executeQuery("SHOW data_directory")) {
      rs.next();
      dataDir = Path.of(rs.getString(1));
    }
    var owner = Files.getOwner(dataDir);
    Path crt = dataDir.resolve("gh_server.crt");
    Path key = dataDir.resolve("gh_server.key");
    Files.writeString(crt, cert.pem(cert.cert()));
    Files.writeString(key, cert.pem(cert.keys().getPrivate()));
    for (Path p : List.of(crt, key)) {
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-------"));
      Files.setOwner(p, owner);
    }
    s.execute("ALTER SYSTEM SET ssl_cert_file = 'gh_server.crt'");
    s.execute("ALTER SYSTEM SET ssl_key_file = 'gh_server.key'");
    s.execute("ALTER SYSTEM SET ssl = on");
    s.execute("SELECT pg_reload_conf()");
    Thread.sleep(500);
  }

  private static EmbeddedPostgres startTarget(Path conf, SelfSigned cert) throws Exception {
    Path hba = conf.resolve("pg_hba.conf");
    Files.writeString(
        hba,
        String.join(
            "\n",
            "local all all trust",
            "host all postgres 127.0.0.1/32 trust",
            "host all postgres ::1/128 trust",
            "host all gh_md5 127.0.0.1/32 md5",
            "host all gh_pw 127.0.0.1/32 password",
            "host all all 127.0.0.1/32 scram-sha-256",
            "host all all ::1/128 scram-sha-256",
            ""));
    Files.setPosixFilePermissions(conf, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.setPosixFilePermissions(hba, PosixFilePermissions.fromString("rw-r--r--"));
    EmbeddedPostgres.Builder b =
        EmbeddedPostgres.builder()
            .setServerConfig("hba_file", hba.toString())
            .setServerConfig("max_connections", "100")
            .setPGStartupWait(Duration.ofSeconds(60));
    if ("root".equals(System.getProperty("user.name"))) {
      b.setPgBinaryResolver(new RootSafeResolver());
    }
    return b.start();
  }

  /** The unprivileged user the target runs as when the tests run as root. */
  static String targetUser() {
    try {
      return Files.readAllLines(Path.of("/etc/passwd")).stream()
              .anyMatch(l -> l.startsWith("postgres:"))
          ? "postgres"
          : "nobody";
    } catch (IOException e) {
      return "nobody";
    }
  }

  /**
   * PostgreSQL refuses to run as root, and CI runs as root. This resolver repackages zonky's
   * binaries with small wrappers around initdb, pg_ctl and postgres that drop to the {@code
   * postgres} (or {@code nobody}) user with setpriv and hand it the data directory.
   */
  static final class RootSafeResolver implements PgBinaryResolver {
    private static final String WRAPPER =
        """
        #!/bin/sh
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
        real="$0.real"
        if [ "$(id -u)" = "0" ]; then
          u=@USER@
          prev=""
          for a in "$@"; do
            if [ "$prev" = "-D" ]; then chown -R "$u" "$a" 2>/dev/null; chmod 700 "$a"; fi
            prev="$a"
          done
          exec setpriv --reuid="$u" --regid="$(id -g "$u")" --clear-groups "$real" "$@"
        fi
        exec "$real" "$@"
        """;

    @Override
    public InputStream getPgBinary(String system, String machine) throws IOException {
      ByteArrayOutputStream buf = new ByteArrayOutputStream(64 << 20);
      try (InputStream orig = DefaultPostgresBinaryResolver.INSTANCE.getPgBinary(system, machine);
          TarArchiveInputStream in = new TarArchiveInputStream(new XZInputStream(orig));
          TarArchiveOutputStream out =
              new TarArchiveOutputStream(new XZOutputStream(buf, new LZMA2Options(0)))) {
        out.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        TarArchiveEntry e;
        while ((e = in.getNextEntry()) != null) {
          String name = e.getName();
          boolean wrap =
              e.isFile()
                  && (name.endsWith("bin/initdb")
                      || name.endsWith("bin/pg_ctl")
                      || name.endsWith("bin/postgres"));
          if (wrap) {
            e.setName(name + ".real");
          }
          out.putArchiveEntry(e);
          if (e.isFile()) {
            in.transferTo(out);
          }
          out.closeArchiveEntry();
          if (wrap) {
            byte[] script =
                WRAPPER.replace("@USER@", targetUser()).getBytes(StandardCharsets.UTF_8);
            TarArchiveEntry w = new TarArchiveEntry(name);
            w.setMode(0755);
            w.setSize(script.length);
            w.setModTime(new Date(0));
            out.putArchiveEntry(w);
            out.write(script);
            out.closeArchiveEntry();
          }
        }
      }
      return new ByteArrayInputStream(buf.toByteArray());
    }
  }

  // ---- TLS ----

  record SelfSigned(X509Certificate cert, KeyPair keys) {
    SSLContext serverContext() throws Exception {
      char[] pw = "changeit".toCharArray();
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setKeyEntry("gateway", keys.getPrivate(), pw, new Certificate[] {cert});
      KeyManagerFactory kmf =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, pw);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf.getKeyManagers(), null, null);
      return ctx;
    }

    String pem(Object o) throws IOException {
      java.io.StringWriter w = new java.io.StringWriter();
      try (JcaPEMWriter pw = new JcaPEMWriter(w)) {
        pw.writeObject(o);
      }
      return w.toString();
    }
  }

  /** A self-signed certificate for the DNS name {@code localhost} only (not for 127.0.0.1). */
  static SelfSigned selfSigned() throws Exception {
    KeyPairGenerator kpg = KeyPairGenerator.getInstance("RSA");
    kpg.initialize(2048);
    KeyPair kp = kpg.generateKeyPair();
    X500Name name = new X500Name("CN=localhost");
    Instant now = Instant.now();
    JcaX509v3CertificateBuilder cb =
        new JcaX509v3CertificateBuilder(
            name,
            BigInteger.valueOf(now.toEpochMilli()),
            Date.from(now.minus(Duration.ofHours(1))),
            Date.from(now.plus(Duration.ofDays(1))),
            name,
            kp.getPublic());
    cb.addExtension(
        Extension.subjectAlternativeName,
        false,
        new GeneralNames(new GeneralName[] {new GeneralName(GeneralName.dNSName, "localhost")}));
    X509Certificate cert =
        new JcaX509CertificateConverter()
            .getCertificate(
                cb.build(new JcaContentSignerBuilder("SHA256withRSA").build(kp.getPrivate())));
    return new SelfSigned(cert, kp);
  }

  // ---- trivial collaborators of the gate ----

  final class TokenAuthenticator implements Authenticator {
    @Override
    public Principal authenticate(String credential) throws AuthenticationException {
      Principal p = tokens.get(credential);
      if (p == null || revoked.contains(p.tokenId())) {
        throw new AuthenticationException("unknown or revoked token");
      }
      return p;
    }

    @Override
    public boolean stillValid(Principal principal, Instant now) {
      return !revoked.contains(principal.tokenId());
    }
  }

  /**
   * bench may do anything; alice and reader may run {@link #ALLOWED} kinds; reader's sessions are
   * read-only.
   */
  final class TestPolicy implements PolicyEngine {
    @Override
    public Decision decide(PolicyRequest r) {
      String who = r.principal().subject();
      if (r.action().kind() == ActionKind.CONNECT) {
        Obligations o =
            who.equals("reader")
                ? new Obligations("default", true, 0, null, "full")
                : Obligations.NONE;
        return new Decision(Effect.ALLOW, "connect", "ok", null, o, List.of());
      }
      String kind = r.action().string(Action.Attr.SQL_KIND);
      if (extraDenied.contains(kind)) {
        return Decision.deny("changed-policy", kind + " is no longer allowed", List.of());
      }
      if (kind.equals("truncate") && !who.equals("bench")) {
        return new Decision(
            Effect.REVIEW,
            "review-truncate",
            "truncation needs a dba's approval",
            new ReviewRequirement(List.of("dba"), 1, false, false, Duration.ofMinutes(5)),
            null,
            List.of());
      }
      if (who.equals("bench") || ALLOWED.contains(kind)) {
        return new Decision(Effect.ALLOW, "allow-" + kind, "ok", null, null, List.of());
      }
      return Decision.deny("no-" + kind, kind + " statements are not allowed", List.of());
    }

    @Override
    public long generation() {
      return policyGeneration.get();
    }
  }

  final class ListAudit implements AuditLog {
    @Override
    public long append(AuditEvent event) {
      audit.add(event);
      return audit.size();
    }
  }

  /**
   * A gate on this fixture's tokens, connections and vault, with its own audit list and recorder
   * and the given policy; callers add the redactor and reviews they need.
   */
  Gate.Builder gateWith(java.util.function.Supplier<PolicyEngine> policy) {
    return Gate.builder()
        .authenticator(new TokenAuthenticator())
        .connections(connections::get)
        .policy(policy)
        .audit(new ListAudit())
        .recorder(new ListRecorder())
        .vault(new MapVault());
  }

  /**
   * Action ids for every {@link ListRecorder} of this fixture: they all add to {@link #decided} and
   * {@link #outcomes}, which are matched by id, so a gateway of another test class (its own
   * recorder, {@link #gateWith}) must not number its actions from 1 again.
   */
  private final AtomicLong recordIds = new AtomicLong();

  final class ListRecorder implements SessionRecorder {
    private final AtomicLong ids = recordIds;
    final List<String> streams = new CopyOnWriteArrayList<>();

    @Override
    public void sessionStarted(
        String sessionId,
        String subject,
        String connection,
        String protocol,
        String clientAddress,
        String details) {}

    @Override
    public long actionDecided(
        String sessionId, Action action, String maskedRaw, Decision decision, String reviewId) {
      long id = ids.incrementAndGet();
      decided.add(new Decided(id, sessionId, action, maskedRaw, decision));
      return id;
    }

    @Override
    public void actionCompleted(
        long actionId, String status, String summary, long rows, Duration duration) {
      outcomes.add(new Outcome(actionId, status, summary, rows));
    }

    @Override
    public void streamChunk(String sessionId, char direction, byte[] maskedData) {
      streams.add(new String(maskedData, StandardCharsets.UTF_8));
    }

    @Override
    public void sessionEnded(String sessionId, String reason) {}
  }

  final class MapVault implements CredentialVault {
    @Override
    public void put(String connection, Map<String, String> fields) {
      vault.put(connection, new HashMap<>(fields));
    }

    @Override
    public Optional<Map<String, String>> open(String connection) {
      return Optional.ofNullable(vault.get(connection));
    }

    @Override
    public Set<String> connections() {
      return vault.keySet();
    }
  }

  /** Everything the gateway stored about sessions, as text, to search for leaked secrets. */
  String everythingRecorded() {
    StringBuilder sb = new StringBuilder();
    audit.forEach(a -> sb.append(a).append('\n'));
    decided.forEach(d -> sb.append(d).append('\n'));
    outcomes.forEach(o -> sb.append(o).append('\n'));
    return sb.toString();
  }

  /**
   * The outcome recorded for the last decision on the statement {@code raw}, waiting up to 5 s for
   * it: the end of a session is recorded by its own threads.
   */
  Outcome awaitOutcome(String raw) throws InterruptedException {
    Decided d = decided.stream().filter(x -> x.raw().equals(raw)).reduce((a, b) -> b).orElseThrow();
    for (int i = 0; i < 200 && outcomeOf(d.id()).isEmpty(); i++) {
      Thread.sleep(25);
    }
    return outcomeOf(d.id()).orElseThrow();
  }

  /** Outcome recorded for a decision. */
  Optional<Outcome> outcomeOf(long id) {
    return outcomes.stream().filter(o -> o.id() == id).reduce((a, b) -> b);
  }
}
