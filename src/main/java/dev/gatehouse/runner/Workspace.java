package dev.gatehouse.runner;

import dev.gatehouse.config.GatehouseConfig.ExecConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where one process runs, and the private directory its file secrets live in while it runs. Closing
 * removes a fresh workspace and every secret file, whatever happened to the process.
 */
final class Workspace implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Workspace.class);
  private static final SecureRandom RANDOM = new SecureRandom();

  /** The run_as directory in a shielded job's root-only directory ({@link #open}). */
  static final String SHIELDED_NAME = "work";

  private final Path root;
  private final Path remove; // what close() removes: the fresh workspace, or its shield
  private final int[] owner;
  private final String ownerId;
  private final boolean shielded;
  private Path secretDir;
  private Path secretTop;
  private Path home;

  private Workspace(Path root, Path remove, int[] owner, String ownerId, boolean shielded) {
    this.root = root;
    this.remove = remove;
    this.owner = owner;
    this.ownerId = ownerId;
    this.shielded = shielded;
  }

  /**
   * A fresh directory under {@code workdir} (default {@code DATA_DIR/workspaces/CONNECTION}), or
   * the fixed {@code workdir}. A fresh one belongs to {@code owner} (uid, gid) when the gateway is
   * root; a fixed one is left as the operator made it. A fresh one is named {@code OWNER-RANDOM}
   * and its secret directory {@code gatehouse-secrets-OWNER-…}, {@code OWNER} being {@code ownerId}
   * ({@link WorkspaceOwner}): what a dead gateway left is found by that name.
   *
   * <p>{@code shielded} (a bubblewrap job run as {@code owner} by a root gateway): the fresh
   * workspace is {@code OWNER-RANDOM/work} and the secrets {@code gatehouse-secrets-OWNER-…/s}, the
   * outer directory root's and 0700. Another process with the run_as uid outside the sandbox (a job
   * of a connection without bubblewrap, a host daemon running as nobody) can then neither read nor
   * replace them; inside the sandbox the outer directory is a 0755 tmpfs ({@link Sandbox#command},
   * {@link Sandbox#hidden}), so the job reaches them. Red team F2.
   */
  static Workspace open(
      ExecConfig cfg,
      Path dataDir,
      String connection,
      int[] owner,
      String ownerId,
      boolean shielded)
      throws IOException {
    Path base =
        (cfg.workdir() != null ? cfg.workdir() : dataDir.resolve("workspaces").resolve(connection))
            .toAbsolutePath()
            .normalize();
    if ("fixed".equals(cfg.workspace())) {
      Files.createDirectories(base);
      return new Workspace(base.toRealPath(), null, owner, ownerId, shielded && owner != null);
    }
    Files.createDirectories(base);
    boolean shield = shielded && owner != null;
    Path top =
        Files.createDirectory(
            base.resolve(ownerId + "-" + HexFormat.of().formatHex(bytes())), PRIVATE);
    Path dir = shield ? Files.createDirectory(top.resolve(SHIELDED_NAME), PRIVATE) : top;
    chown(dir, owner);
    return new Workspace(dir.toRealPath(), top.toRealPath(), owner, ownerId, shield);
  }

  private static final java.nio.file.attribute.FileAttribute<?> PRIVATE =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));

  private static byte[] bytes() {
    byte[] b = new byte[12];
    RANDOM.nextBytes(b);
    return b;
  }

  Path root() {
    return root;
  }

  /**
   * The working directory: the workspace, or {@code requested} (relative to it, or absolute), which
   * must be an existing directory inside it after resolving {@code ..} and symbolic links.
   */
  Path cwd(String requested) throws Refusal {
    if (requested == null || requested.isEmpty()) {
      return root;
    }
    Path p = root.resolve(requested).normalize();
    Path real;
    try {
      real = p.toRealPath();
    } catch (IOException e) {
      throw new Refusal("cwd " + requested + " does not exist in the workspace " + root);
    }
    if (!real.startsWith(root) || !p.startsWith(root)) {
      throw new Refusal("cwd " + requested + " is outside the workspace " + root);
    }
    if (!Files.isDirectory(real, LinkOption.NOFOLLOW_LINKS)) {
      throw new Refusal("cwd " + requested + " is not a directory");
    }
    return real;
  }

  /**
   * Writes a secret to a 0600 file in a private 0700 directory outside the workspace (so a
   * workspace that is kept, or copied out, never holds it) and returns its path.
   */
  Path secretFile(String name, String value) throws IOException {
    if (secretDir == null) {
      Path top = privateArea();
      secretDir = shielded ? Files.createDirectory(top.resolve("s"), PRIVATE) : top;
      chown(secretDir, owner);
    }
    Path f = secretDir.resolve(name);
    Files.write(
        f,
        value.getBytes(StandardCharsets.UTF_8),
        StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE);
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
    chown(f, owner);
    return f;
  }

  /**
   * The job's own HOME when the workspace is fixed, else null (a fresh workspace is the job's own,
   * and its HOME). A fixed workdir is shared by every job of the connection: a dotfile one job
   * leaves there ({@code .gitconfig} with core.pager or an alias, {@code .npmrc} with a script
   * shell, {@code .lesskey}, {@code .config/...}) would configure, and run code in, a later
   * caller's programs. So the job gets an empty 0700 directory of its own, {@code .home} in its
   * private area next to its file secrets (a name no secret has: secrets are named as environment
   * variables), removed when it ends.
   */
  Path home() throws IOException {
    if (remove != null) {
      return null;
    }
    if (home == null) {
      Path h = Files.createDirectory(privateArea().resolve(".home"), PRIVATE);
      chown(h, owner);
      home = h;
    }
    return home;
  }

  /**
   * The job's private directory for secrets and its HOME, made on first use. java.io.tmpdir, not
   * the data directory: the unprivileged user must be able to reach it without sandbox, and inside
   * bubblewrap it is bound over the private /tmp. Shielded: root's and 0700, the job's directories
   * inside it (see open()).
   */
  private Path privateArea() throws IOException {
    if (secretTop == null) {
      secretTop = Files.createTempDirectory(WorkspaceOwner.SECRETS_PREFIX + ownerId + "-", PRIVATE);
      if (!shielded) {
        chown(secretTop, owner);
      }
    }
    return secretTop;
  }

  /** The directory of file secrets, or null when there are none. */
  Path secretDir() {
    return secretDir;
  }

  /**
   * The root-only directory around the file secrets and the HOME of a shielded job ({@link #open}),
   * which the sandbox covers with a 0755 tmpfs so that the job reaches them; null when not shielded
   * or there are none.
   */
  Path secretShield() {
    return shielded ? secretTop : null;
  }

  private static void chown(Path p, int[] owner) throws IOException {
    if (owner != null) {
      Files.setAttribute(p, "unix:uid", owner[0], LinkOption.NOFOLLOW_LINKS);
      Files.setAttribute(p, "unix:gid", owner[1], LinkOption.NOFOLLOW_LINKS);
    }
  }

  @Override
  public void close() {
    if (secretTop != null) {
      delete(secretTop);
    }
    if (remove != null) {
      delete(remove);
    }
  }

  /** Deletes a tree without following symbolic links out of it. */
  static void delete(Path dir) {
    try {
      Files.walkFileTree(
          dir,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
                throws IOException {
              Files.deleteIfExists(file);
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
              Files.deleteIfExists(d);
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (NoSuchFileException e) {
      // already gone
    } catch (IOException e) {
      log.warn("exec: cannot remove {}", dir, e);
    }
  }
}
