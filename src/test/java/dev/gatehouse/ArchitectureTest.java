package dev.gatehouse;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The package rules from docs/architecture.md, enforced. */
class ArchitectureTest {
  static final List<String> PROTOCOLS = List.of("postgres", "mysql", "ssh", "exec", "http", "mcp");
  static final List<String> CORE =
      List.of("identity", "policy", "approval", "credential", "masking", "audit", "store");

  static JavaClasses classes;

  @BeforeAll
  static void load() {
    classes =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.gatehouse");
  }

  @Test
  void protocolPackagesDoNotDependOnEachOther() {
    for (String p : PROTOCOLS) {
      for (String other : PROTOCOLS) {
        if (p.equals(other)) {
          continue;
        }
        noClasses()
            .that()
            .resideInAPackage("dev.gatehouse." + p + "..")
            .should()
            .dependOnClassesThat()
            .resideInAPackage("dev.gatehouse." + other + "..")
            .allowEmptyShould(true)
            .check(classes);
      }
    }
  }

  @Test
  void corePackagesDoNotDependOnProtocolsApiOrCli() {
    for (String core : CORE) {
      for (String outer :
          List.of(
              "postgres",
              "mysql",
              "ssh",
              "exec",
              "http",
              "mcp",
              "api",
              "cli",
              "web",
              "server",
              "demo")) {
        noClasses()
            .that()
            .resideInAPackage("dev.gatehouse." + core + "..")
            .should()
            .dependOnClassesThat()
            .resideInAPackage("dev.gatehouse." + outer + "..")
            .allowEmptyShould(true)
            .check(classes);
      }
    }
  }

  @Test
  void runnerDoesNotDependOnProtocolsApiCliOrServer() {
    // The runner is shared by the exec API and the SSH listener: it may use the gate, policy,
    // masking and config, but must not reach back into any of its callers.
    noClasses()
        .that()
        .resideInAPackage("dev.gatehouse.runner..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "dev.gatehouse.postgres..",
            "dev.gatehouse.mysql..",
            "dev.gatehouse.ssh..",
            "dev.gatehouse.exec..",
            "dev.gatehouse.http..",
            "dev.gatehouse.mcp..",
            "dev.gatehouse.api..",
            "dev.gatehouse.cli..",
            "dev.gatehouse.server..",
            "dev.gatehouse.demo..")
        .check(classes);
  }

  @Test
  void maskingHasNoProtocolOrGateCode() {
    noClasses()
        .that()
        .resideInAPackage("dev.gatehouse.masking..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("dev.gatehouse.gate..", "dev.gatehouse.policy..")
        .allowEmptyShould(true)
        .check(classes);
  }

  @Test
  void cliNeverTouchesTheStore() {
    noClasses()
        .that()
        .resideInAPackage("dev.gatehouse.cli..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "dev.gatehouse.store..", "dev.gatehouse.audit..", "dev.gatehouse.credential..")
        .check(classes);
  }

  @Test
  void eachProtocolPackageHasExactlyOnePublicEntryClass() {
    for (String p : PROTOCOLS) {
      classes()
          .that()
          .resideInAPackage("dev.gatehouse." + p)
          .and()
          .haveModifier(JavaModifier.PUBLIC)
          .and()
          .areNotNestedClasses()
          .should()
          .haveSimpleNameEndingWith("ProtocolServer")
          .allowEmptyShould(true)
          .check(classes);
    }
  }

  @Test
  void onlyTheGateCreatesProofOfAuthorization() {
    // AuthorizedAction's constructor is package-private, so only dev.gatehouse.gate can call it.
    noClasses()
        .that()
        .resideOutsideOfPackage("dev.gatehouse.gate..")
        .should()
        .callConstructor(
            dev.gatehouse.gate.AuthorizedAction.class,
            long.class,
            dev.gatehouse.policy.Action.class,
            dev.gatehouse.policy.Decision.class,
            String.class,
            long.class)
        .check(classes);
  }
}
