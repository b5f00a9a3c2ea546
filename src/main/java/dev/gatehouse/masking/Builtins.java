package dev.gatehouse.masking;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The built-in detectors and profiles.
 *
 * <ul>
 *   <li>{@code none}: nothing is masked.
 *   <li>{@code default} and {@code secrets}: credentials only (private keys, JWTs, cloud and SaaS
 *       keys, connection-string passwords, secret assignments, high-entropy tokens).
 *   <li>{@code pii}: secrets plus personal data: email (partial), card (last 4), SSN (redacted),
 *       phone (last 2), IBAN (country and last 4), IP addresses (redacted).
 * </ul>
 */
final class Builtins {
  static final int ENTROPY_MIN_LENGTH = 20;
  static final double DEFAULT_ENTROPY_THRESHOLD = 3.5;

  private Builtins() {}

  static List<Detector> secretDetectors(double entropyThreshold) {
    List<Detector> d = new ArrayList<>();
    d.add(new SecretDetectors.PrivateKey());
    d.add(new SecretDetectors.Jwt());
    d.add(SecretDetectors.cloudCredentials());
    d.add(SecretDetectors.connectionStrings());
    d.add(new SecretDetectors.Assignment());
    d.add(new SecretDetectors.Entropy(entropyThreshold, ENTROPY_MIN_LENGTH));
    return d;
  }

  static List<Detector> piiDetectors() {
    return List.of(
        new PiiDetectors.Email(),
        new PiiDetectors.Phone(),
        new PiiDetectors.Card(),
        new PiiDetectors.Iban(),
        new PiiDetectors.Ssn(),
        new PiiDetectors.Nino(),
        new PiiDetectors.Ip(),
        new PiiDetectors.Cvv());
  }

  /** Built-in profiles; {@code extraSecrets}/{@code extraPii} come from rule files. */
  static Map<String, ProfileBuilder> profiles(
      double entropyThreshold,
      Style.Redact redaction,
      List<Detector> extraSecrets,
      List<Detector> extraPii) {
    Map<String, ProfileBuilder> m = new LinkedHashMap<>();
    m.put("none", new ProfileBuilder("none", redaction));
    ProfileBuilder secrets =
        new ProfileBuilder("secrets", redaction)
            .addAll(secretDetectors(entropyThreshold))
            .addAll(extraSecrets);
    m.put("secrets", secrets);
    m.put("default", secrets.copyAs("default"));
    ProfileBuilder pii =
        secrets
            .copyAs("pii")
            .addAll(piiDetectors())
            .addAll(extraPii)
            .style("email", new Style.Partial(-1))
            .style("card", new Style.Partial(4))
            .style("ssn", redaction)
            .style("nino", redaction)
            .style("phone", new Style.Partial(2))
            .style("iban", new Style.Partial(4))
            .style("ip", redaction)
            .style("cvv", redaction);
    m.put("pii", pii);
    return m;
  }
}
