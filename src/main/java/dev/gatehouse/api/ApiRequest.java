package dev.gatehouse.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import dev.gatehouse.identity.Principal;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/** One API request: path parameters, query, bounded body, and (once authenticated) the caller. */
final class ApiRequest {
  /** Request bodies are small JSON or form documents; 1 MiB is far above any legitimate one. */
  static final int MAX_BODY_BYTES = 1 << 20;

  final HttpExchange exchange;
  final Map<String, String> pathParams;
  private final ObjectMapper json;
  private Principal principal;
  private byte[] body;

  ApiRequest(HttpExchange exchange, Map<String, String> pathParams, ObjectMapper json) {
    this.exchange = exchange;
    this.pathParams = pathParams;
    this.json = json;
  }

  Principal principal() {
    if (principal == null) {
      throw ApiException.unauthorized("authentication required");
    }
    return principal;
  }

  void principal(Principal p) {
    this.principal = p;
  }

  String header(String name) {
    return exchange.getRequestHeaders().getFirst(name);
  }

  String path(String name) {
    return pathParams.get(name);
  }

  Map<String, String> query() {
    return parseForm(exchange.getRequestURI().getRawQuery());
  }

  byte[] body() throws IOException {
    if (body == null) {
      try (InputStream in = exchange.getRequestBody()) {
        byte[] b = in.readNBytes(MAX_BODY_BYTES + 1);
        if (b.length > MAX_BODY_BYTES) {
          throw new ApiException(
              413, "too-large", "request body over " + MAX_BODY_BYTES + " bytes");
        }
        body = b;
      }
    }
    return body;
  }

  /** The body as a JSON object ({} when empty). */
  JsonNode json() throws IOException {
    byte[] b = body();
    if (b.length == 0) {
      return json.createObjectNode();
    }
    try {
      JsonNode n = json.readTree(b);
      if (n == null || !n.isObject()) {
        throw ApiException.badRequest("request body must be a JSON object");
      }
      return n;
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw ApiException.badRequest("request body is not valid JSON: " + e.getOriginalMessage());
    }
  }

  /** The body as application/x-www-form-urlencoded (RFC 8693 token exchange). */
  Map<String, String> form() throws IOException {
    return parseForm(new String(body(), StandardCharsets.UTF_8));
  }

  static Map<String, String> parseForm(String raw) {
    Map<String, String> m = new HashMap<>();
    if (raw == null || raw.isEmpty()) {
      return m;
    }
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      String k = eq < 0 ? pair : pair.substring(0, eq);
      String v = eq < 0 ? "" : pair.substring(eq + 1);
      m.putIfAbsent(
          URLDecoder.decode(k, StandardCharsets.UTF_8),
          URLDecoder.decode(v, StandardCharsets.UTF_8));
    }
    return m;
  }
}
