package dev.gatehouse.postgres;

import dev.gatehouse.postgres.PgCodec.Builder;
import dev.gatehouse.postgres.PgCodec.ProtocolViolation;
import dev.gatehouse.postgres.PgCodec.Reader;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Builders and parsers for the messages the gateway itself creates or inspects. */
final class PgMessages {
  private PgMessages() {}

  // ---- backend messages (gateway → client) ----

  static byte[] authenticationOk() {
    return new Builder('R').int32(0).frame();
  }

  static byte[] authenticationCleartextPassword() {
    return new Builder('R').int32(3).frame();
  }

  static byte[] backendKeyData(int pid, int key) {
    return new Builder('K').int32(pid).int32(key).frame();
  }

  static byte[] readyForQuery(char status) {
    return new Builder('Z').int8(status).frame();
  }

  static byte[] negotiateProtocolVersion(int minor, List<String> unsupported) {
    Builder b = new Builder('v').int32(PgCodec.PROTOCOL_3_0 | minor).int32(unsupported.size());
    unsupported.forEach(b::cstring);
    return b.frame();
  }

  /** An ErrorResponse ('E') or NoticeResponse ('N') from its fields, in order, in UTF-8. */
  static byte[] fields(char type, Map<Character, String> fields) {
    return fields(type, fields, StandardCharsets.UTF_8);
  }

  /** The same, with the strings in the session's client encoding. */
  static byte[] fields(char type, Map<Character, String> fields, Charset cs) {
    Builder b = new Builder(type);
    fields.forEach(
        (k, v) -> {
          b.int8(k);
          b.cstring(v, cs);
        });
    return b.int8(0).frame();
  }

  static byte[] error(String severity, String sqlState, String message) {
    Map<Character, String> f = new LinkedHashMap<>();
    f.put('S', severity);
    f.put('V', severity);
    f.put('C', sqlState);
    f.put('M', message);
    return fields('E', f);
  }

  static byte[] notice(String message) {
    Map<Character, String> f = new LinkedHashMap<>();
    f.put('S', "NOTICE");
    f.put('V', "NOTICE");
    f.put('C', "00000");
    f.put('M', message);
    return fields('N', f);
  }

  /** Parses the fields of an ErrorResponse or NoticeResponse body. */
  static Map<Character, String> parseFields(byte[] body) throws ProtocolViolation {
    return parseFields(body, StandardCharsets.UTF_8);
  }

  /**
   * The same, decoded in the session's client encoding: the target sends the text of errors and
   * notices converted to it (<a
   * href="https://www.postgresql.org/docs/current/multibyte.html">multibyte.html</a>), so reading
   * LATIN1 as UTF-8 and writing it back would corrupt every non-ASCII character.
   */
  static Map<Character, String> parseFields(byte[] body, Charset cs) throws ProtocolViolation {
    Reader r = new Reader(body);
    Map<Character, String> f = new LinkedHashMap<>();
    while (true) {
      byte code = r.int8();
      if (code == 0) {
        return f;
      }
      f.put((char) (code & 0xFF), r.cstring(cs));
    }
  }

  // ---- frontend messages (gateway → target) ----

  static byte[] sslRequest() {
    return new Builder().int32(PgCodec.SSL_REQUEST).frame();
  }

  static byte[] cancelRequest(int pid, int key) {
    return new Builder().int32(PgCodec.CANCEL_REQUEST).int32(pid).int32(key).frame();
  }

  static byte[] startupMessage(Map<String, String> params) {
    Builder b = new Builder().int32(PgCodec.PROTOCOL_3_0);
    params.forEach(
        (k, v) -> {
          b.cstring(k);
          b.cstring(v);
        });
    return b.int8(0).frame();
  }

  static byte[] passwordMessage(String password) {
    return new Builder('p').cstring(password).frame();
  }

  static byte[] saslInitialResponse(String mechanism, byte[] data) {
    return new Builder('p').cstring(mechanism).int32(data.length).bytes(data).frame();
  }

  static byte[] saslResponse(byte[] data) {
    return new Builder('p').bytes(data).frame();
  }

  static byte[] query(String sql) {
    return new Builder('Q').cstring(sql).frame();
  }

  static byte[] parse(String name, String sql) {
    return new Builder('P').cstring(name).cstring(sql).int16(0).frame();
  }

  static byte[] terminate() {
    return new Builder('X').frame();
  }

  // ---- inspection ----

  /**
   * Rows affected or returned according to a CommandComplete tag: the last number of the tag
   * ({@code INSERT 0 5}, {@code SELECT 5}, {@code COPY 5}), or 0 for tags without one.
   */
  static long tagRows(String tag) {
    int sp = tag.lastIndexOf(' ');
    if (sp < 0) {
      return 0;
    }
    try {
      return Long.parseLong(tag.substring(sp + 1));
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
