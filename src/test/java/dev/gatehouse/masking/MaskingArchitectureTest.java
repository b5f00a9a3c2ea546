package dev.gatehouse.masking;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** The masking package is protocol-neutral: it may use configuration records and nothing else. */
class MaskingArchitectureTest {
  @Test
  void maskingDependsOnNoGatehousePackageButConfig() {
    JavaClasses classes =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.gatehouse.masking");
    noClasses()
        .that()
        .resideInAPackage("dev.gatehouse.masking..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "dev.gatehouse.server..",
            "dev.gatehouse.gate..",
            "dev.gatehouse.policy..",
            "dev.gatehouse.identity..",
            "dev.gatehouse.audit..",
            "dev.gatehouse.store..",
            "dev.gatehouse.credential..",
            "dev.gatehouse.postgres..",
            "dev.gatehouse.mysql..",
            "dev.gatehouse.ssh..",
            "dev.gatehouse.exec..",
            "dev.gatehouse.http..",
            "dev.gatehouse.mcp..",
            "dev.gatehouse.api..")
        .check(classes);
  }
}
