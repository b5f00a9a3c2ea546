package dev.gatehouse.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.gatehouse.gate.AuthAttempt;
import dev.gatehouse.gate.Gate;
import dev.gatehouse.gate.GateException;
import dev.gatehouse.identity.Principal;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The REST API ({@code /api/v1}), health and metrics endpoints, on the JDK's HTTP server with a
 * virtual thread per request. Authentication is a decorator around every route except the few
 * marked public; it fails closed: any exception while authenticating is a 401/503, never a pass.
 */
public final class ApiServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ApiServer.class);

  /** A route handler; returns a value to serialise as JSON, or a {@link Response}. */
  @FunctionalInterface
  interface Handler {
    Object handle(ApiRequest request) throws Exception;
  }

  /** A response other than plain JSON 200. */
  record Response(int status, String contentType, byte[] body) {
    static Response text(int status, String contentType, String body) {
      return new Response(status, contentType, body.getBytes(StandardCharsets.UTF_8));
    }

    /** A streamed 200 response (chunked), for exports that must not be buffered whole. */
    static Streamed stream(String contentType, BodyWriter writer) {
      return new Streamed(contentType, writer);
    }
  }

  /** Writes a response body to the client as it is produced. */
  @FunctionalInterface
  interface BodyWriter {
    void write(OutputStream out) throws Exception;
  }

  /** A chunked response; see {@link Response#stream}. */
  record Streamed(String contentType, BodyWriter writer) {}

  /** Access level of a route: public (no token), or the minimum role. */
  enum Access {
    PUBLIC,
    USER,
    AUDITOR,
    ADMIN
  }

  private record Route(
      String method, Pattern pattern, List<String> names, Access access, Handler h) {}

  private final List<Route> routes = new ArrayList<>();
  private final Gate gate;
  private final ObjectMapper json;
  private final String host;
  private final int port;
  private final SSLContext tls;
  private HttpServer server;
  private ExecutorService executor;

  public ApiServer(String host, int port, SSLContext tls, Gate gate) {
    this.host = host;
    this.port = port;
    this.tls = tls;
    this.gate = gate;
    this.json =
        new ObjectMapper()
            .registerModule(new JavaTimeModule())
            .setPropertyNamingStrategy(
                com.fasterxml.jackson.databind.PropertyNamingStrategies.SNAKE_CASE)
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
  }

  ObjectMapper json() {
    return json;
  }

  /** Registers a route. Path parameters are written {@code {name}}. */
  void route(String method, String path, Access access, Handler handler) {
    List<String> names = new ArrayList<>();
    Matcher m = Pattern.compile("\\{([a-z_]+)}").matcher(path);
    StringBuilder re = new StringBuilder();
    int last = 0;
    while (m.find()) {
      re.append(Pattern.quote(path.substring(last, m.start()))).append("([^/]+)");
      names.add(m.group(1));
      last = m.end();
    }
    re.append(Pattern.quote(path.substring(last)));
    routes.add(new Route(method, Pattern.compile(re.toString()), names, access, handler));
  }

  /** Registers the routes of an endpoint group. */
  public ApiServer with(Endpoints endpoints) {
    endpoints.register(this);
    return this;
  }

  /** A group of routes, implemented in this package. */
  public interface Endpoints {
    void register(ApiServer api);
  }

  public void start() throws IOException {
    InetSocketAddress addr = new InetSocketAddress(host, port);
    try {
      if (tls != null) {
        HttpsServer s = HttpsServer.create(addr, 128);
        s.setHttpsConfigurator(new HttpsConfigurator(tls));
        server = s;
      } else {
        server = HttpServer.create(addr, 128);
        log.warn("API listener on {} speaks plaintext HTTP (server.api.plaintext: true)", addr);
      }
    } catch (BindException e) {
      throw new IOException(
          "API: cannot listen on "
              + host
              + ":"
              + port
              + ": "
              + e.getMessage()
              + " (is another process using the port? set server.api.port or --api-port)",
          e);
    }
    executor = Executors.newVirtualThreadPerTaskExecutor();
    server.setExecutor(executor);
    server.createContext("/", this::dispatch);
    server.start();
  }

  public InetSocketAddress address() {
    return server.getAddress();
  }

  /** The base URL clients use, e.g. {@code https://127.0.0.1:8443}. */
  public String baseUrl() {
    return (tls != null ? "https" : "http") + "://" + host + ":" + address().getPort();
  }

  @Override
  public void close() {
    if (server != null) {
      server.stop(0);
    }
    if (executor != null) {
      executor.shutdownNow();
    }
  }

  private void dispatch(HttpExchange ex) {
    // The exchange is closed only after the response (or the problem) has been written: a
    // try-with-resources would close it before the catch blocks run and lose the error.
    try {
      route(ex);
    } catch (ApiException e) {
      if (e.retryAfterSeconds() > 0) {
        // RFC 9110 section 10.2.3: delay-seconds; RFC 6585 section 4 for 429.
        ex.getResponseHeaders().set("Retry-After", Long.toString(e.retryAfterSeconds()));
      }
      problem(ex, e.status(), e.type(), e.getMessage());
    } catch (Exception e) {
      log.error(
          "API request failed: {} {}", ex.getRequestMethod(), ex.getRequestURI().getPath(), e);
      problem(ex, 500, "internal", "internal error; see the gateway log");
    } finally {
      ex.close();
    }
  }

  private void route(HttpExchange ex) throws Exception {
    String path = ex.getRequestURI().getPath();
    String method = ex.getRequestMethod();
    boolean pathMatched = false;
    for (Route r : routes) {
      Matcher m = r.pattern.matcher(path);
      if (!m.matches()) {
        continue;
      }
      pathMatched = true;
      if (!r.method.equals(method)) {
        continue;
      }
      Map<String, String> params = new HashMap<>();
      for (int i = 0; i < r.names.size(); i++) {
        params.put(
            r.names.get(i), java.net.URLDecoder.decode(m.group(i + 1), StandardCharsets.UTF_8));
      }
      ApiRequest req = new ApiRequest(ex, params, json);
      respond(ex, invoke(r, req));
      return;
    }
    if (pathMatched) {
      throw new ApiException(405, "method-not-allowed", method + " is not allowed on " + path);
    }
    throw ApiException.notFound("no such endpoint: " + path);
  }

  private Object invoke(Route r, ApiRequest req) throws Exception {
    if (r.access != Access.PUBLIC) {
      Principal p = authenticate(req);
      req.principal(p);
      Role needed =
          switch (r.access) {
            case ADMIN -> Role.ADMIN;
            case AUDITOR -> Role.AUDITOR;
            default -> Role.USER;
          };
      if (!Role.of(p).atLeast(needed)) {
        throw ApiException.forbidden(
            "\"" + p.subject() + "\" needs the " + needed.name().toLowerCase() + " role for this");
      }
    }
    return r.h.handle(req);
  }

  private Principal authenticate(ApiRequest req) {
    String h = req.header("Authorization");
    if (h == null || !h.regionMatches(true, 0, "Bearer ", 0, 7)) {
      throw ApiException.unauthorized("missing bearer token (Authorization: Bearer …)");
    }
    String token = h.substring(7).trim();
    return worded(() -> gate.authenticate(token, attempt(req)));
  }

  /**
   * Runs a public route's credential check (an OIDC ID token at login) under the gate's
   * authentication throttle, as bearer tokens are: 429 with {@code Retry-After} while the caller's
   * address is throttled, 401 for a credential that proves nothing.
   */
  <T> T checkCredential(ApiRequest req, Gate.CredentialCheck<T> check) {
    return worded(() -> gate.authenticate(attempt(req), check));
  }

  private interface GateCall<T> {
    T call() throws GateException;
  }

  /** A gate refusal as the API words it. */
  private static <T> T worded(GateCall<T> call) {
    try {
      return call.call();
    } catch (GateException e) {
      if (e.reason() == GateException.Reason.UNAVAILABLE) {
        throw ApiException.unavailable(e.getMessage());
      }
      if (e.throttled()) {
        throw ApiException.tooManyRequests(e.getMessage(), e.retryAfterSeconds());
      }
      throw ApiException.unauthorized(e.getMessage());
    }
  }

  /** An API request as the authentication throttle sees it: an address, no claimed identity. */
  private static AuthAttempt attempt(ApiRequest req) {
    var remote = req.exchange.getRemoteAddress();
    return new AuthAttempt("api", remote == null ? null : remote.getAddress(), null);
  }

  /**
   * Reads what the handler left of the request body. A response sent before the body was read (a
   * 401/403 ahead of the handler, an early 400) otherwise leaves the body on the keep-alive
   * connection, and the client's next request on it hangs until the idle timeout.
   */
  private static void drainRequestBody(HttpExchange ex) {
    try {
      InputStream in = ex.getRequestBody();
      byte[] buf = new byte[8192];
      long left = ApiRequest.MAX_BODY_BYTES;
      int n;
      while (left > 0 && (n = in.read(buf, 0, (int) Math.min(buf.length, left))) > 0) {
        left -= n;
      }
    } catch (IOException e) {
      // already read and closed by the handler, or the client went away
    }
  }

  private void respond(HttpExchange ex, Object result) throws Exception {
    drainRequestBody(ex);
    if (result instanceof Streamed s) {
      ex.getResponseHeaders().set("Content-Type", s.contentType());
      ex.getResponseHeaders().set("Cache-Control", "no-store");
      ex.sendResponseHeaders(200, 0);
      try (OutputStream os = ex.getResponseBody()) {
        s.writer().write(os);
      }
    } else if (result instanceof Response r) {
      send(ex, r.status(), r.contentType(), r.body());
    } else if (result == null) {
      ex.sendResponseHeaders(204, -1);
    } else {
      send(ex, 200, "application/json", json.writeValueAsBytes(result));
    }
  }

  private void problem(HttpExchange ex, int status, String type, String detail) {
    drainRequestBody(ex);
    try {
      ObjectNode p = json.createObjectNode();
      p.put("type", "https://gatehouse.dev/problems/" + type);
      p.put("title", title(status));
      p.put("status", status);
      p.put("detail", detail);
      p.put("instance", ex.getRequestURI().getPath());
      if (status == 401) {
        ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"gatehouse\"");
      }
      send(ex, status, "application/problem+json", json.writeValueAsBytes(p));
    } catch (IOException e) {
      log.debug("client went away before the error was sent", e);
    }
  }

  private static String title(int status) {
    return switch (status) {
      case 400 -> "Bad Request";
      case 401 -> "Unauthorized";
      case 403 -> "Forbidden";
      case 404 -> "Not Found";
      case 405 -> "Method Not Allowed";
      case 409 -> "Conflict";
      case 413 -> "Content Too Large";
      case 429 -> "Too Many Requests";
      case 503 -> "Service Unavailable";
      default -> status >= 500 ? "Internal Server Error" : "Error";
    };
  }

  private static void send(HttpExchange ex, int status, String type, byte[] body)
      throws IOException {
    ex.getResponseHeaders().set("Content-Type", type);
    ex.getResponseHeaders().set("Cache-Control", "no-store");
    ex.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
    ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    if (body.length > 0) {
      try (OutputStream os = ex.getResponseBody()) {
        os.write(body);
      }
    }
  }
}
