package dev.gatehouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code gatehouse ssh-keys add|list|remove}. */
@Command(
    name = "ssh-keys",
    description =
        "Register, list and remove the SSH public keys you log in to the SSH listener with.",
    mixinStandardHelpOptions = true,
    subcommands = {
      SshKeyCommands.Add.class,
      SshKeyCommands.ListKeys.class,
      SshKeyCommands.Remove.class
    })
final class SshKeyCommands {

  @Command(
      name = "add",
      mixinStandardHelpOptions = true,
      description = {
        "Register an OpenSSH public key for yourself (admins: --user for anyone).",
        "Reads FILE, - for standard input, or ~/.ssh/id_ed25519.pub by default."
      })
  static final class Add extends ApiCommand {
    @Parameters(
        paramLabel = "FILE",
        arity = "0..1",
        description = "Public key file, or - for standard input (default: ~/.ssh/id_ed25519.pub).")
    String file;

    @Option(
        names = "--expires-in",
        description =
            "Lifetime, e.g. 8h (default and longest: until your token expires; admins up to"
                + " identity.ssh_keys.max_ttl).")
    String expiresIn;

    @Option(names = "--user", description = "Subject to register for (admin only).")
    String user;

    @Option(
        names = "--groups",
        split = ",",
        description = "Groups (admin only, with --user; default: the user's configured groups).")
    List<String> groups;

    @Option(names = "--kind", description = "human, service or agent (admin only, with --user).")
    String kind;

    @Override
    int run() {
      String key = read();
      if (key.contains("PRIVATE KEY")) { // never send a private key anywhere
        throw new CliException(
            CliException.USAGE,
            "this is a private key; give the public key (the .pub file) and keep the private key"
                + " secret");
      }
      ObjectNode body = api().json().createObjectNode();
      body.put("public_key", key);
      if (expiresIn != null) {
        body.put("expires_in", expiresIn);
      }
      if (user != null) {
        body.put("subject", user);
      }
      if (groups != null) {
        body.putPOJO("groups", groups);
      }
      if (kind != null) {
        body.put("kind", kind);
      }
      JsonNode r = api().post("/api/v1/ssh-keys", body);
      if (json()) {
        Output.json(System.out, r);
      } else {
        System.out.println(r.path("fingerprint").asText());
        System.err.println(
            "registered "
                + r.path("key_type").asText()
                + " key for "
                + r.path("subject").asText()
                + (r.path("expires_at").isNull()
                    ? " (until removed)"
                    : ", expires " + r.path("expires_at").asText()));
      }
      return 0;
    }

    private String read() {
      try {
        if ("-".equals(file)) {
          return new String(System.in.readAllBytes(), StandardCharsets.UTF_8).strip();
        }
        Path p =
            file != null
                ? Path.of(file)
                : Path.of(System.getProperty("user.home"), ".ssh", "id_ed25519.pub");
        if (p.getFileName() != null
            && !p.toString().endsWith(".pub")
            && Files.exists(Path.of(p + ".pub"))) {
          throw new CliException(
              CliException.USAGE,
              p + " looks like a private key; give the public key: " + p + ".pub");
        }
        return Files.readString(p, StandardCharsets.UTF_8).strip();
      } catch (NoSuchFileException e) {
        throw new CliException(
            CliException.USAGE,
            "no such file: "
                + e.getFile()
                + (file == null
                    ? " (create a key with ssh-keygen -t ed25519, or name the .pub file)"
                    : ""));
      } catch (IOException e) {
        throw new CliException(CliException.USAGE, "cannot read the key: " + e.getMessage());
      }
    }
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = "List your SSH keys (admins: --user NAME or --all).")
  static final class ListKeys extends ApiCommand {
    @Option(names = "--user", description = "Subject whose keys to list (admin only).")
    String user;

    @Option(names = "--all", description = "Everyone's keys (admin only).")
    boolean all;

    @Override
    int run() {
      String q = all ? "?all=true" : user != null ? "?subject=" + encode(user) : "";
      list(
          api().get("/api/v1/ssh-keys" + q),
          "subject",
          "fingerprint",
          "key_type",
          "comment",
          "source",
          "created_at",
          "expires_at",
          "expired",
          "token_revoked");
      return 0;
    }
  }

  @Command(
      name = "remove",
      mixinStandardHelpOptions = true,
      description = {
        "Remove a registered SSH key by its fingerprint (SHA256:..., as ssh-keygen -l prints it).",
        "Sessions the key opened on the replica that handles this request end at once."
      })
  static final class Remove extends ApiCommand {
    @Parameters(paramLabel = "FINGERPRINT", description = "SHA256:... fingerprint.")
    String fingerprint;

    @Option(names = "--user", description = "Subject the key belongs to (admin only).")
    String user;

    @Override
    int run() {
      String fp = fingerprint.strip().replace('+', '-').replace('/', '_');
      api()
          .delete(
              "/api/v1/ssh-keys/" + encode(fp) + (user == null ? "" : "?subject=" + encode(user)));
      System.err.println("removed " + fingerprint.strip());
      return 0;
    }
  }

  private static String encode(String s) {
    return java.net.URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
