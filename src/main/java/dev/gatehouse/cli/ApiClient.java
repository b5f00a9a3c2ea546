package dev.gatehouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManagerFactory;

/** A thin client of the REST API; the CLI never touches the store. */
final class ApiClient {
  private final CliConfig cfg;
  private final HttpClient http;
  private final ObjectMapper json = new ObjectMapper();

  ApiClient(CliConfig cfg) {
    this.cfg = cfg;
    HttpClient.Builder b =
        HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(10))
            .version(HttpClient.Version.HTTP_1_1);
    if (cfg.caCert() != null) {
      b.sslContext(trusting(Path.of(cfg.caCert())));
    }
    this.http = b.build();
  }

  ObjectMapper json() {
    return json;
  }

  CliConfig config() {
    return cfg;
  }

  JsonNode get(String path) {
    return send(request(path).GET());
  }

  JsonNode post(String path, Object body) {
    try {
      return send(
          request(path)
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofByteArray(json.writeValueAsBytes(body))));
    } catch (IOException e) {
      throw new CliException(CliException.FAILED, "cannot encode request: " + e.getMessage());
    }
  }

  JsonNode postForm(String path, Map<String, String> form) {
    String body =
        form.entrySet().stream()
            .map(
                e ->
                    URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8)
                        + "="
                        + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
            .collect(Collectors.joining("&"));
    return send(
        request(path)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString(body)));
  }

  JsonNode delete(String path) {
    return send(request(path).DELETE());
  }

  /** Streams a response body (exports, replays) to the caller. */
  InputStream stream(String path) {
    HttpResponse<InputStream> r =
        exchange(request(path).GET(), HttpResponse.BodyHandlers.ofInputStream());
    if (r.statusCode() >= 300) {
      try (InputStream in = r.body()) {
        throw failure(r.statusCode(), new String(in.readAllBytes(), StandardCharsets.UTF_8));
      } catch (IOException e) {
        throw new CliException(
            CliException.UNAVAILABLE, "error reading response: " + e.getMessage());
      }
    }
    return r.body();
  }

  /**
   * POSTs JSON and returns the streamed response body (exec). The request timeout covers the whole
   * exchange, so it is the longest a command may run (the gateway's exec timeout is at most one
   * day).
   */
  InputStream postStream(String path, Object body) {
    byte[] bytes;
    try {
      bytes = json.writeValueAsBytes(body);
    } catch (IOException e) {
      throw new CliException(CliException.FAILED, "cannot encode request: " + e.getMessage());
    }
    HttpResponse<InputStream> r =
        exchange(
            request(path, Duration.ofDays(1).plusHours(1))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(bytes)),
            HttpResponse.BodyHandlers.ofInputStream());
    if (r.statusCode() >= 300) {
      try (InputStream in = r.body()) {
        throw failure(r.statusCode(), new String(in.readAllBytes(), StandardCharsets.UTF_8));
      } catch (IOException e) {
        throw new CliException(
            CliException.UNAVAILABLE, "error reading response: " + e.getMessage());
      }
    }
    return r.body();
  }

  /** POSTs raw bytes (exec stdin); the response is ignored unless it is an error. */
  void postBytes(String path, byte[] body) {
    HttpResponse<String> r =
        exchange(
            request(path)
                .header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)),
            HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() >= 300) {
      throw failure(r.statusCode(), r.body());
    }
  }

  private HttpRequest.Builder request(String path) {
    return request(path, Duration.ofMinutes(5));
  }

  private HttpRequest.Builder request(String path, Duration timeout) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(cfg.api() + path)).timeout(timeout);
    if (cfg.token() != null) {
      b.header("Authorization", "Bearer " + cfg.token());
    }
    return b;
  }

  private JsonNode send(HttpRequest.Builder b) {
    HttpResponse<String> r = exchange(b, HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() >= 300) {
      throw failure(r.statusCode(), r.body());
    }
    try {
      return r.body().isEmpty() ? json.nullNode() : json.readTree(r.body());
    } catch (IOException e) {
      throw new CliException(CliException.FAILED, "gateway sent invalid JSON: " + e.getMessage());
    }
  }

  private <T> HttpResponse<T> exchange(HttpRequest.Builder b, HttpResponse.BodyHandler<T> h) {
    try {
      return http.send(b.build(), h);
    } catch (SSLHandshakeException e) {
      throw new CliException(
          CliException.UNAVAILABLE,
          "TLS handshake with "
              + cfg.api()
              + " failed ("
              + e.getMessage()
              + "); set GATEHOUSE_CACERT to the gateway's certificate (DATA_DIR/tls/gatehouse.crt)");
    } catch (ConnectException e) {
      throw new CliException(
          CliException.UNAVAILABLE,
          "cannot reach the gateway at " + cfg.api() + " (is it running? set GATEHOUSE_API)");
    } catch (IOException e) {
      throw new CliException(
          CliException.UNAVAILABLE, "request to " + cfg.api() + " failed: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException(CliException.FAILED, "interrupted");
    }
  }

  CliException failure(int status, String body) {
    String detail = body;
    try {
      JsonNode p = json.readTree(body);
      if (p.hasNonNull("detail")) {
        detail = p.get("detail").asText();
      } else if (p.hasNonNull("error_description")) {
        detail = p.get("error").asText() + ": " + p.get("error_description").asText();
      }
    } catch (IOException ignored) {
      // not JSON: show the raw body
    }
    int code =
        switch (status) {
          case 400, 409, 422 -> CliException.USAGE;
          case 401, 403 -> CliException.AUTH;
          case 404 -> CliException.NOT_FOUND;
          default -> status >= 500 ? CliException.UNAVAILABLE : CliException.FAILED;
        };
    return new CliException(code, "gateway: " + detail + " (HTTP " + status + ")");
  }

  /** A TLS context that trusts the certificates in a PEM file (a self-signed gateway). */
  static SSLContext trusting(Path pem) {
    try (InputStream in = Files.newInputStream(pem)) {
      KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
      ks.load(null, null);
      int i = 0;
      for (var c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        ks.setCertificateEntry("ca" + i++, (X509Certificate) c);
      }
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ks);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      return ctx;
    } catch (IOException | java.security.GeneralSecurityException e) {
      throw new CliException(
          CliException.USAGE,
          "GATEHOUSE_CACERT " + pem + ": not a readable PEM certificate: " + e.getMessage());
    }
  }
}
