package dev.gatehouse.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gate.Gate;
import dev.gatehouse.gate.GateException;
import dev.gatehouse.gate.GateSession;
import dev.gatehouse.identity.Principal;
import dev.gatehouse.runner.CommandRunner;
import dev.gatehouse.runner.ExecRequest;
import dev.gatehouse.runner.Execution;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Commands on exec connections over REST, for {@code gatehouse exec}.
 *
 * <pre>
 *   POST /api/v1/exec  {connection, argv, env, cwd, stdin}
 *        → 200 application/vnd.gatehouse.exec, a stream of frames until the command ends
 *   POST /api/v1/exec/{id}/stdin[?eof=true]   raw bytes appended to stdin (empty body: EOF)
 *   POST /api/v1/exec/{id}/signal  {signal}   INT, TERM, HUP, ... to the process group
 * </pre>
 *
 * <p>A frame is one type byte, a 4-byte big-endian length and that many bytes of data:
 *
 * <pre>
 *   0 started    JSON {"exec_id", "session_id"}; always first
 *   1 stdout     masked bytes           2 stderr   masked bytes
 *   3 exit       int32 exit status; always last (126 refused, 127 not started, 128+N signal N)
 *   4 held       UTF-8 message: the command waits for a review
 *   5 error      UTF-8 message from the gateway (followed by exit)
 *   6 keepalive  empty, every {@value #KEEPALIVE_SECONDS} s, so a vanished caller is noticed
 * </pre>
 *
 * <p>Errors before the command is described (bad JSON, unknown connection, CONNECT denied) are
 * problem+json responses; once the stream has started, a refusal is a stderr line and exit 126,
 * exactly as the command would see it over SSH. Only the principal who started a command may feed
 * its stdin or signal it; to anyone else it does not exist.
 */
public final class ExecApi implements ApiServer.Endpoints {
  static final String MEDIA_TYPE = "application/vnd.gatehouse.exec";
  static final int STARTED = 0;
  static final int STDOUT = 1;
  static final int STDERR = 2;
  static final int EXIT = 3;
  static final int HELD = 4;
  static final int ERROR = 5;
  static final int KEEPALIVE = 6;

  static final int KEEPALIVE_SECONDS = 5;

  /** Bound on arguments: Linux ARG_MAX is 2 MiB (execve(2)); the request body is at most 1 MiB. */
  static final int MAX_ARGS = 4096;

  /** Queued stdin chunks per command; a caller that outruns the command waits (backpressure). */
  static final int STDIN_QUEUE = 64;

  private final Gate gate;
  private final CommandRunner runner;
  private final Map<String, Running> running = new ConcurrentHashMap<>();

  public ExecApi(Gate gate, CommandRunner runner) {
    this.gate = gate;
    this.runner = runner;
  }

  @Override
  public void register(ApiServer api) {
    api.route("POST", "/api/v1/exec", ApiServer.Access.USER, this::exec);
    api.route("POST", "/api/v1/exec/{id}/stdin", ApiServer.Access.USER, this::stdin);
    api.route("POST", "/api/v1/exec/{id}/signal", ApiServer.Access.USER, this::signal);
  }

  /** A command in progress, for its stdin and signal endpoints. */
  private static final class Running {
    final String subject;
    final StdinPipe stdin;
    volatile Execution execution;
    volatile Thread thread;

    Running(String subject, StdinPipe stdin) {
      this.subject = subject;
      this.stdin = stdin;
    }
  }

  private Object exec(ApiRequest r) throws Exception {
    JsonNode body = r.json();
    String connection = text(body, "connection");
    if (connection == null) {
      throw ApiException.badRequest(
          "connection: missing (expected the name of an exec connection)");
    }
    List<String> argv = new ArrayList<>();
    JsonNode a = body.path("argv");
    if (!a.isArray() || a.isEmpty() || a.size() > MAX_ARGS) {
      throw ApiException.badRequest(
          "argv: " + a + " (expected 1 to " + MAX_ARGS + " strings, such as [\"npm\", \"test\"])");
    }
    for (JsonNode x : a) {
      if (!x.isTextual() || x.asText().indexOf('\0') >= 0) {
        throw ApiException.badRequest("argv: " + x + " (expected strings without NUL)");
      }
      argv.add(x.asText());
    }
    Map<String, String> env = new LinkedHashMap<>();
    JsonNode e = body.path("env");
    if (!e.isMissingNode() && !e.isNull()) {
      if (!e.isObject()) {
        throw ApiException.badRequest("env: " + e + " (expected an object of strings)");
      }
      for (var f : e.properties()) {
        if (!f.getValue().isTextual() || f.getValue().asText().indexOf('\0') >= 0) {
          throw ApiException.badRequest("env." + f.getKey() + ": expected a string without NUL");
        }
        env.put(f.getKey(), f.getValue().asText());
      }
    }
    String cwd = text(body, "cwd");
    boolean withStdin = body.path("stdin").asBoolean(false);
    // Every check that can refuse the request comes before the session opens: after that, the
    // stream (or the start guard below) must close it.
    String justification = text(body, "justification");
    if (justification != null && justification.length() > 1000) {
      throw ApiException.badRequest("justification: at most 1000 characters");
    }
    Principal p = r.principal();
    GateSession session;
    try {
      session = gate.open(p, connection, "exec", String.valueOf(r.exchange.getRemoteAddress()));
    } catch (GateException ex) {
      throw problem(ex);
    }
    String id = "ex_" + UUID.randomUUID().toString().replace("-", "");
    Running run = new Running(p.subject(), withStdin ? new StdinPipe() : null);
    running.put(id, run);
    ExecRequest request = new ExecRequest(argv, null, env, cwd, null, justification);
    AtomicBoolean streaming = new AtomicBoolean();
    // The stream writer closes the session; if the response never starts (the caller left before
    // the headers were sent), this closes it instead, so no session stays open unrecorded.
    Thread.ofVirtual()
        .name("exec-start-guard-" + id)
        .start(
            () -> {
              try {
                Thread.sleep(TimeUnit.SECONDS.toMillis(60));
              } catch (InterruptedException ignored) {
                // shutting down: close below
              }
              if (streaming.compareAndSet(false, true)) {
                running.remove(id);
                session.close();
              }
            });
    return ApiServer.Response.stream(
        MEDIA_TYPE,
        out -> {
          if (!streaming.compareAndSet(false, true)) {
            return;
          }
          try (session) {
            stream(id, run, session, request, out);
          } finally {
            running.remove(id);
            if (run.stdin != null) {
              run.stdin.eof();
            }
          }
        });
  }

  private void stream(String id, Running run, GateSession session, ExecRequest req, OutputStream os)
      throws IOException {
    run.thread = Thread.currentThread();
    Frames frames = new Frames(os, run);
    frames.write(
        STARTED,
        ("{\"exec_id\":\"" + id + "\",\"session_id\":\"" + session.id() + "\"}")
            .getBytes(StandardCharsets.UTF_8));
    Thread keepalive =
        Thread.ofVirtual()
            .name("exec-keepalive-" + id)
            .start(
                () -> {
                  try {
                    while (true) {
                      Thread.sleep(TimeUnit.SECONDS.toMillis(KEEPALIVE_SECONDS));
                      frames.tryWrite(KEEPALIVE, new byte[0]);
                    }
                  } catch (InterruptedException ignored) {
                    // the command ended
                  }
                });
    int status;
    try {
      ExecRequest held =
          new ExecRequest(
              req.argv(),
              null,
              req.env(),
              req.cwd(),
              (reviewId, message) -> frames.tryWrite(HELD, utf8(message)),
              req.justification());
      status =
          runner.run(
              session,
              held,
              run.stdin,
              new FrameStream(frames, STDOUT),
              new FrameStream(frames, STDERR),
              execution -> run.execution = execution);
    } catch (RuntimeException ex) {
      frames.tryWrite(ERROR, utf8("internal error; see the gateway log"));
      status = CommandRunner.NOT_STARTED;
      org.slf4j.LoggerFactory.getLogger(ExecApi.class).error("exec {} failed", id, ex);
    } finally {
      keepalive.interrupt();
    }
    Thread.interrupted(); // a signal while held may have interrupted us; the exit frame must go out
    frames.write(EXIT, ByteBuffer.allocate(4).putInt(status).array());
  }

  private Object stdin(ApiRequest r) throws Exception {
    Running run = mine(r);
    if (run.stdin == null) {
      throw new ApiException(
          409, "conflict", "exec " + r.path("id") + " was started without stdin (stdin: false)");
    }
    byte[] data = r.body();
    try {
      if (data.length > 0) {
        run.stdin.append(data);
      }
    } catch (IOException e) {
      throw new ApiException(409, "conflict", "exec " + r.path("id") + ": " + e.getMessage());
    }
    if (data.length == 0 || "true".equals(r.query().get("eof"))) {
      run.stdin.eof();
    }
    return null;
  }

  private Object signal(ApiRequest r) throws Exception {
    Running run = mine(r);
    String sig = text(r.json(), "signal");
    if (sig == null) {
      throw ApiException.badRequest("signal: missing (expected INT, TERM, HUP, KILL, ...)");
    }
    Execution ex = run.execution;
    if (ex != null) {
      try {
        ex.signal(sig);
      } catch (IllegalArgumentException e) {
        throw ApiException.badRequest(e.getMessage());
      }
    } else if (run.thread != null) {
      // Not started yet (held for review): a signal withdraws the request.
      run.thread.interrupt();
    }
    return null;
  }

  private Running mine(ApiRequest r) {
    Running run = running.get(r.path("id"));
    if (run == null || !run.subject.equals(r.principal().subject())) {
      throw ApiException.notFound("exec " + r.path("id") + " is not running (or not yours)");
    }
    return run;
  }

  private static ApiException problem(GateException e) {
    return switch (e.reason()) {
      case AUTHENTICATION -> ApiException.unauthorized(e.getMessage());
      case UNKNOWN_CONNECTION -> ApiException.notFound(e.getMessage());
      case UNAVAILABLE -> ApiException.unavailable(e.getMessage());
      // a run ends by itself; its slot is free again then
      case TOO_MANY_SESSIONS -> ApiException.tooManyRequests(e.getMessage(), 5);
      default -> ApiException.forbidden(e.getMessage());
    };
  }

  private static String text(JsonNode body, String field) {
    JsonNode n = body.path(field);
    if (n.isMissingNode() || n.isNull()) {
      return null;
    }
    if (!n.isTextual()) {
      throw ApiException.badRequest(field + ": " + n + " (expected a string)");
    }
    return n.asText();
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Frames on the response body; stdout and stderr pumps write concurrently. */
  private static final class Frames {
    private final OutputStream out;
    private final Running run;
    private volatile boolean gone;

    Frames(OutputStream out, Running run) {
      this.out = out;
      this.run = run;
    }

    synchronized void write(int type, byte[] data, int off, int len) throws IOException {
      if (gone) {
        throw new IOException("the caller disconnected");
      }
      if (Thread.currentThread() == run.thread) {
        // A signal while held for review interrupts this thread to withdraw the request; a
        // pending interrupt would close the channel under the next write, losing the exit frame.
        Thread.interrupted();
      }
      try {
        byte[] head = ByteBuffer.allocate(5).put((byte) type).putInt(len).array();
        out.write(head);
        out.write(data, off, len);
        out.flush();
      } catch (IOException e) {
        gone = true;
        throw e;
      }
    }

    void write(int type, byte[] data) throws IOException {
      write(type, data, 0, data.length);
    }

    /** For frames nobody waits on: a failure means the caller is gone, so stop the command. */
    void tryWrite(int type, byte[] data) {
      try {
        write(type, data);
      } catch (IOException e) {
        Execution ex = run.execution;
        if (ex != null) {
          ex.kill();
        } else if (run.thread != null) {
          run.thread.interrupt();
        }
      }
    }
  }

  /** One output stream of the command as frames of one type. */
  private static final class FrameStream extends OutputStream {
    private final Frames frames;
    private final int type;

    FrameStream(Frames frames, int type) {
      this.frames = frames;
      this.type = type;
    }

    @Override
    public void write(int b) throws IOException {
      frames.write(type, new byte[] {(byte) b});
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      if (len > 0) {
        frames.write(type, b, off, len);
      }
    }
  }

  /**
   * The command's stdin, fed by stdin requests. Bounded: when the command does not read, a stdin
   * request waits, then fails with 409, instead of the gateway buffering without limit.
   */
  static final class StdinPipe extends InputStream {
    private static final byte[] EOF = new byte[0];
    private final BlockingQueue<byte[]> queue = new LinkedBlockingQueue<>(STDIN_QUEUE);
    private volatile boolean closed;
    private byte[] current;
    private int pos;
    private boolean ended;

    void append(byte[] data) throws IOException, InterruptedException {
      if (closed) {
        throw new IOException("stdin is closed");
      }
      if (!queue.offer(data, 30, TimeUnit.SECONDS)) {
        throw new IOException("stdin is full: the command has not read its input for 30 s");
      }
    }

    void eof() {
      if (!closed) {
        closed = true;
        while (!queue.offer(EOF)) {
          queue.poll(); // the reader is gone or far behind; EOF must get through
        }
      }
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (len == 0) {
        return 0;
      }
      while (!ended && (current == null || pos == current.length)) {
        try {
          current = queue.take();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new java.io.InterruptedIOException("stdin read interrupted");
        }
        pos = 0;
        if (current == EOF) {
          ended = true;
        }
      }
      if (ended) {
        return -1;
      }
      int n = Math.min(len, current.length - pos);
      System.arraycopy(current, pos, b, off, n);
      pos += n;
      return n;
    }
  }
}
