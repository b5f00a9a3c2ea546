package dev.gatehouse.audit;

import dev.gatehouse.config.Secret;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

/**
 * POSTs records as a JSON array. Each batch is tried a few times with exponential backoff; if it
 * still fails, the tailer keeps the offset and tries again later, so nothing is lost.
 */
final class WebhookSink implements AuditSink {
  private static final int ATTEMPTS = 4;

  private final HttpClient http;
  private final URI uri;
  private final Secret authorization;
  private final Duration firstBackoff;

  WebhookSink(String url, Secret authorization, Duration firstBackoff) {
    this.uri = URI.create(url);
    this.authorization = authorization;
    this.firstBackoff = firstBackoff;
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  }

  /** Scheme, host, port and path: the query string may hold a token, so it is left out. */
  @Override
  public String id() {
    return "webhook:" + uri.getScheme() + "://" + uri.getAuthority() + uri.getRawPath();
  }

  @Override
  public void deliver(List<String> lines) throws IOException, InterruptedException {
    String body = "[" + String.join(",", lines) + "]";
    HttpRequest.Builder rb =
        HttpRequest.newBuilder(uri)
            .timeout(Duration.ofSeconds(30))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (authorization != null) {
      rb.header("Authorization", authorization.reveal());
    }
    HttpRequest request = rb.build();
    long backoff = firstBackoff.toMillis();
    IOException last = null;
    for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
      try {
        HttpResponse<Void> resp = http.send(request, HttpResponse.BodyHandlers.discarding());
        int status = resp.statusCode();
        if (status >= 200 && status < 300) {
          return;
        }
        last = new IOException(id() + " answered HTTP " + status + " (expected: 2xx)");
      } catch (IOException e) {
        last = new IOException(id() + ": " + e.getClass().getSimpleName() + " " + e.getMessage());
      }
      if (attempt < ATTEMPTS) {
        Thread.sleep(backoff);
        backoff *= 2;
      }
    }
    throw last;
  }

  @Override
  public void close() {
    http.close();
  }
}
