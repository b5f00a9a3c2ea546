package dev.gatehouse.server;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.io.Writer;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The certificate and key every listener serves. Either configured PEM files, or a self-signed
 * ECDSA P-256 certificate generated on first start into {@code DATA_DIR/tls/} and reused after, so
 * clients can pin it.
 */
public final class TlsMaterial {
  private static final Logger log = LoggerFactory.getLogger(TlsMaterial.class);

  /** Self-signed certificates are valid this long; regenerate by deleting DATA_DIR/tls. */
  private static final Duration SELF_SIGNED_VALIDITY = Duration.ofDays(825);

  private final X509Certificate[] chain;
  private final PrivateKey key;
  private final Path certFile;

  private TlsMaterial(X509Certificate[] chain, PrivateKey key, Path certFile) {
    this.chain = chain;
    this.key = key;
    this.certFile = certFile;
  }

  /** Loads configured PEM files, or creates/reuses the self-signed pair under {@code dataDir}. */
  public static TlsMaterial load(Path certPem, Path keyPem, Path dataDir) throws IOException {
    if (certPem != null && keyPem != null) {
      return fromPem(certPem, keyPem);
    }
    Path dir = dataDir.resolve("tls");
    Path cert = dir.resolve("gatehouse.crt");
    Path key = dir.resolve("gatehouse.key");
    if (Files.exists(cert) && Files.exists(key)) {
      try {
        return fromPem(cert, key);
      } catch (IOException | RuntimeException e) {
        // Only the one known-bad form is ours to replace: earlier versions running on JDK 24+
        // wrote a SEC1 EC key without its curve (see writePem), which no JDK reads back. Anything
        // else (no permission, an encrypted key, an operator's own pair) is an error to fix by
        // hand, not a reason to destroy it. The old files are kept beside the new ones.
        String pem = Files.isReadable(key) ? Files.readString(key, StandardCharsets.US_ASCII) : "";
        if (!pem.startsWith("-----BEGIN EC PRIVATE KEY-----")) {
          throw e instanceof IOException io
              ? io
              : new IOException(key + ": cannot read the TLS key: " + e.getMessage(), e);
        }
        String aside = ".unreadable-" + System.currentTimeMillis();
        Files.move(cert, cert.resolveSibling(cert.getFileName() + aside));
        Files.move(key, key.resolveSibling(key.getFileName() + aside));
        log.warn(
            "the self-signed TLS key under {} was written without its curve by an earlier version"
                + " and cannot be read; generating a new pair (the old one is kept as *{}; clients"
                + " that pinned the old certificate must pin the new one)",
            dir,
            aside);
      }
    }
    Files.createDirectories(dir);
    TlsMaterial generated = selfSigned();
    writePem(cert, generated.chain[0], false);
    writePem(key, new JcaPKCS8Generator(generated.key, null), true);
    log.warn(
        "generated a self-signed TLS certificate at {}; configure server.tls for production", cert);
    return new TlsMaterial(generated.chain, generated.key, cert);
  }

  static TlsMaterial selfSigned() throws IOException {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
      KeyPair kp = g.generateKeyPair();
      Instant now = Instant.now();
      X500Name name = new X500Name("CN=gatehouse,O=Gatehouse self-signed");
      List<GeneralName> sans = new ArrayList<>();
      sans.add(new GeneralName(GeneralName.dNSName, "localhost"));
      sans.add(new GeneralName(GeneralName.iPAddress, "127.0.0.1"));
      sans.add(new GeneralName(GeneralName.iPAddress, "::1"));
      try {
        String host = InetAddress.getLocalHost().getHostName();
        if (!host.isBlank() && !"localhost".equals(host)) {
          sans.add(new GeneralName(GeneralName.dNSName, host));
        }
      } catch (IOException ignored) {
        // no host name: the loopback names above still work
      }
      JcaX509v3CertificateBuilder b =
          new JcaX509v3CertificateBuilder(
              name,
              new BigInteger(127, new SecureRandom()),
              Date.from(now.minus(Duration.ofMinutes(5))),
              Date.from(now.plus(SELF_SIGNED_VALIDITY)),
              name,
              kp.getPublic());
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(
          Extension.subjectAlternativeName,
          false,
          new GeneralNames(sans.toArray(GeneralName[]::new)));
      b.addExtension(
          Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
      X509CertificateHolder holder =
          b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate()));
      X509Certificate cert = new JcaX509CertificateConverter().getCertificate(holder);
      return new TlsMaterial(new X509Certificate[] {cert}, kp.getPrivate(), null);
    } catch (GeneralSecurityException | org.bouncycastle.operator.OperatorCreationException e) {
      throw new IOException("cannot generate a self-signed certificate: " + e.getMessage(), e);
    }
  }

  static TlsMaterial fromPem(Path certPem, Path keyPem) throws IOException {
    List<X509Certificate> certs = new ArrayList<>();
    try (Reader r = Files.newBufferedReader(certPem, StandardCharsets.UTF_8);
        PEMParser p = new PEMParser(r)) {
      Object o;
      while ((o = p.readObject()) != null) {
        if (o instanceof X509CertificateHolder h) {
          certs.add(new JcaX509CertificateConverter().getCertificate(h));
        }
      }
    } catch (GeneralSecurityException e) {
      throw new IOException(certPem + ": not a valid PEM certificate: " + e.getMessage(), e);
    }
    if (certs.isEmpty()) {
      throw new IOException(certPem + ": no certificate found (expected PEM 'BEGIN CERTIFICATE')");
    }
    PrivateKey key;
    try (Reader r = Files.newBufferedReader(keyPem, StandardCharsets.UTF_8);
        PEMParser p = new PEMParser(r)) {
      Object o = p.readObject();
      JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
      if (o instanceof PEMKeyPair kp) {
        key = conv.getPrivateKey(kp.getPrivateKeyInfo());
      } else if (o instanceof PrivateKeyInfo pki) {
        key = conv.getPrivateKey(pki);
      } else {
        throw new IOException(
            keyPem + ": no private key found (expected an unencrypted PEM private key)");
      }
    }
    return new TlsMaterial(certs.toArray(X509Certificate[]::new), key, certPem);
  }

  /**
   * Writes {@code obj} as PEM. The private key goes as PKCS#8 ({@code BEGIN PRIVATE KEY}, RFC 5208
   * and RFC 7468 section 10), whose algorithm identifier names the curve: writing the key object
   * itself gives SEC1 ({@code BEGIN EC PRIVATE KEY}, RFC 5915), and from JDK 24 the JDK's EC key
   * encoding no longer carries the optional curve parameters inside it, so the file could not be
   * read back.
   */
  private static void writePem(Path file, Object obj, boolean secret) throws IOException {
    StringWriter sw = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(sw)) {
      w.writeObject(obj);
    }
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    if (secret) {
      // Created 0600, so the key is never readable by others, not even between write and chmod.
      try {
        Files.createFile(
            tmp,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      } catch (UnsupportedOperationException ignored) {
        // non-POSIX file system
      }
    }
    Files.writeString(tmp, sw.toString(), StandardCharsets.US_ASCII);
    Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  /** A server-side TLS context (TLS 1.2 and 1.3). */
  public SSLContext serverContext() {
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      char[] pw = new char[0];
      ks.setKeyEntry("gatehouse", key, pw, (Certificate[]) chain);
      KeyManagerFactory kmf =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, pw);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf.getKeyManagers(), null, new SecureRandom());
      return ctx;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot build TLS context: " + e.getMessage(), e);
    }
  }

  /** The leaf certificate, for clients that pin it. */
  public X509Certificate certificate() {
    return chain[0];
  }

  /** Where the certificate is on disk (null for an in-memory one). */
  public Path certificateFile() {
    return certFile;
  }

  /** The certificate in PEM, for {@code demo.env} and clients. */
  public String certificatePem() {
    StringWriter sw = new StringWriter();
    try (Writer w = new JcaPEMWriter(sw)) {
      ((JcaPEMWriter) w).writeObject(chain[0]);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return sw.toString();
  }
}
