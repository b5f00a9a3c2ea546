package dev.gatehouse.masking;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@link StreamMasker} over UTF-8 text. Each feed decodes the complete UTF-8 prefix of the input,
 * prepends the held-back text, masks it, and emits all but a tail that could still grow into a
 * sensitive value:
 *
 * <ul>
 *   <li>the unfinished last line (at most {@link #MAX_HOLD} characters): a value, the name it is
 *       assigned to ({@code ansible_become_pass: }, {@code Mot de passe : }), its first groups
 *       ({@code DE90 }, {@code [4350 }) and the words that tell a look-alike from it ({@code
 *       version 1.2.3.4}) are then scanned together, as the whole-text path scans them;
 *   <li>a finding that touches the end (it may continue);
 *   <li>the longest suffix that is a prefix of an exact secret;
 *   <li>an unfinished ANSI escape sequence.
 * </ul>
 *
 * The held tail is bounded by {@link #MAX_HOLD} characters (plus the longest exact secret), so
 * memory is bounded. The last {@link #CONTEXT} characters already emitted are kept, for detection
 * only: the held text is scanned after them, so that a value whose name went out before a flush (an
 * idle flush, a line longer than the hold) is still recognised, and its held part masked. Inside a
 * PEM private-key block, output is dropped until its END line.
 */
final class TextStreamMasker implements StreamMasker {
  static final int MAX_HOLD = 4096;
  private static final char ESC = 0x1b;
  private static final Pattern KEY_END =
      Pattern.compile("-----END (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY(?: BLOCK)?-----");

  private final Profile profile;
  private final String[] secrets;
  private byte[] pending = new byte[0];
  private String held = "";

  /**
   * The end of the text already emitted, as it was before masking and without escape sequences:
   * scanned before the held text for detection only (never emitted again), so that the held text is
   * read with the name, the first groups or the words before it, as in the whole text.
   */
  private String context = "";

  /**
   * How much emitted text {@link #context} keeps: more than the longest name the assignment
   * detector reads with its separator, and than the words before a value that decide whether it is
   * one (an IBAN's print groups, {@code Key (phone)=(}).
   */
  static final int CONTEXT = 256;

  /**
   * How much of a long unfinished line is held and rescanned with each chunk: far more than any
   * value with spaces in it that is found only once whole (an IBAN's or a card's print groups, a
   * phone number), so that the rescanning stays proportional to the input.
   */
  static final int LINE_WINDOW = 512;

  private boolean inKey;
  private long keyDropped;

  /** Inside a base64-encoded private key (kubeconfig client-key-data) whose end has not come. */
  private boolean inBase64Key;

  /** Base64 characters of the key's current line so far (a wrapped key continues after 60+). */
  private int base64Line;

  /** At the start of a line that continues a wrapped base64 key if it is all base64. */
  private boolean base64LineStart;

  /** The line break after the key's last line so far: part of the key if another line follows. */
  private String base64Break = "";

  /**
   * Output dropped inside a private-key block before giving up on its END line: far more than any
   * PEM or PGP private key (a 4096-bit RSA key is about 3.3 KB), so a truncated key cannot silence
   * the rest of a session.
   */
  static final int MAX_KEY_BLOCK = 64 * 1024;

  TextStreamMasker(Profile profile, List<ExactSecrets.Form> exactSecrets) {
    this.profile = profile;
    List<ExactSecrets.Match> forms = ExactSecrets.matches(exactSecrets);
    this.secrets = forms.stream().map(ExactSecrets.Match::key).toArray(String[]::new);
    this.fold = new boolean[secrets.length];
    for (int i = 0; i < fold.length; i++) {
      fold[i] = forms.get(i).foldCase();
    }
  }

  /**
   * Which of {@link #secrets} are matched in any case of their ASCII letters ({@link
   * ExactSecrets.Form#foldCase}); those are kept in lower case and looked for in the text with its
   * ASCII letters in lower case (same length, so the same indexes).
   */
  private final boolean[] fold;

  @Override
  public byte[] feed(byte[] chunk) {
    byte[] all = concat(pending, chunk);
    int complete = completeUtf8Prefix(all);
    pending = Arrays.copyOfRange(all, complete, all.length);
    String text = held + new String(all, 0, complete, StandardCharsets.UTF_8);
    return process(text, false).getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public byte[] flush() {
    String text = held + new String(pending, StandardCharsets.UTF_8);
    pending = new byte[0];
    return process(text, true).getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Longest time the start of a secret is held back while the upstream is quiet (see {@link
   * #flushIdle}): a program that prints a token in two writes a few milliseconds apart (a pipe
   * flushed by a slow filter, a loaded machine) is still masked as a whole, and a stalled one only
   * delays its last line by this much.
   */
  static final long MAX_SECRET_WAIT_MILLIS = 1000;

  /**
   * Flushes everything held, except when the held tail looks like the start of a secret that is
   * still being written ({@link #secretStarts}) and the upstream has been quiet for less than
   * {@link #MAX_SECRET_WAIT_MILLIS}: then nothing is emitted and the caller asks again later.
   * Prompts ({@code Password: }) and ordinary output never look like that, so they are not delayed.
   */
  @Override
  public byte[] flushIdle(long quietMillis) {
    if (quietMillis < MAX_SECRET_WAIT_MILLIS && pending.length == 0 && secretStarts(held)) {
      return new byte[0];
    }
    return flush();
  }

  /** How many characters are held back (for tests: the bound on memory). */
  int heldLength() {
    return held.length() + pending.length;
  }

  @Override
  public boolean holding() {
    return !held.isEmpty() || pending.length > 0;
  }

  /** Tokens whose documented prefix is enough to know that the rest is a secret. */
  private static final Pattern TOKEN_START =
      Pattern.compile(
          "(?:gh[pousr]_|github_pat_|gl(?:pat|dt|rt|ptt)-|hv[sbr]\\.|xox[abposr]-|xapp-|sk-"
              + "|[sr]k_live_|whsec_|npm_|dckr_|AKIA|ASIA|AIza|eyJ|-----BEGIN|"
              + ToolSecrets.BEGIN_B64
              + ")[^\\s]*");

  /**
   * A name the assignment detector knows (or Docker's {@code "auth"}), assigned a value that has
   * begun and not ended on the last line: {@code DEPLOY_TOKEN=hun}, {@code password: "correct
   * horse}. An empty value ({@code Password: }) is a prompt, not the start of a secret.
   */
  private static final Pattern OPEN_ASSIGNMENT =
      Pattern.compile(
          "(?i)(?:"
              + SecretDetectors.Assignment.KEY
              // a bare pass (SecretDetectors.BarePass): pass=hun; a _AUTH name
              // (SecretDetectors.AuthName): REDIS_AUTH=Win
              + "|\"auth|(?<=[A-Za-z0-9][_-])auth|(?<![A-Za-z0-9_-])pass)[\"']?\\s{0,3}"
              + "(?::=|=>|=|:)\\s{0,3}"
              + "(?:(\"[^\"\\r\\n]+)|('[^'\\r\\n]+)|[^\\s\"',;&<>\\u001b)}\\]]+)$");

  /**
   * A password in a sentence whose word has begun on the last line ({@code the password is hun};
   * SecretDetectors.PasswordPhrase).
   */
  private static final Pattern OPEN_PHRASE =
      Pattern.compile(
          "(?i)(?<![A-Za-z])(?:"
              + String.join("|", SecretDetectors.PasswordPhrase.WORDS)
              + ")(?:[^\\S\\r\\n]{1,3}(?:is|was|to)[^\\S\\r\\n]{0,3}:?"
              // password for NAME: jY7 (SecretDetectors.PasswordPhrase)
              + "|[^\\S\\r\\n]{1,3}for(?:[^\\S\\r\\n]{1,3}[^\\s:=]{1,40}){1,3}[^\\S\\r\\n]{0,3}:)"
              + "[^\\S\\r\\n]{1,3}(?:now[^\\S\\r\\n]{1,3})?"
              + "[\"']?[^\\s\"']+$");

  /** How much of the held tail {@link #secretStarts} looks at. */
  private static final int START_WINDOW = 256;

  /**
   * True when {@code tail} ends with what looks like the start of a secret still being written: an
   * assignment with a value begun on its last line, a word that starts with a known token prefix,
   * or an unfinished sensitive Terraform output.
   */
  static boolean secretStarts(String tail) {
    int n = tail.length();
    if (n == 0 || tail.charAt(n - 1) == '\n' || tail.charAt(n - 1) == '\r') {
      return false;
    }
    String w = tail.substring(Math.max(0, n - START_WINDOW));
    int nl = w.lastIndexOf('\n');
    String line = w.substring(nl + 1);
    int word = line.length();
    while (word > 0 && !isBreak(line.charAt(word - 1))) {
      word--;
    }
    if (word < line.length() && TOKEN_START.matcher(line.substring(word)).matches()) {
      return true;
    }
    if (OPEN_ASSIGNMENT.matcher(line).find() || OPEN_PHRASE.matcher(line).find()) {
      return true;
    }
    return tail.indexOf("\"sensitive\"") >= 0
        && ToolSecrets.TerraformSensitive.openFrom(tail, 0, tail.length()) >= 0;
  }

  private static byte[] concat(byte[] a, byte[] b) {
    if (a.length == 0) {
      return b;
    }
    byte[] r = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }

  /** Length of the prefix that ends on a UTF-8 sequence boundary. */
  static int completeUtf8Prefix(byte[] b) {
    int n = b.length;
    for (int back = 1; back <= 3 && back <= n; back++) {
      int v = b[n - back] & 0xff;
      if ((v & 0xC0) == 0x80) {
        continue; // continuation byte: look further back for the lead
      }
      int need = v >= 0xF0 ? 4 : v >= 0xE0 ? 3 : v >= 0xC0 ? 2 : 1;
      return need > back ? n - back : n;
    }
    return n;
  }

  private String process(String text, boolean last) {
    StringBuilder out = new StringBuilder(text.length());
    int pos = 0;
    while (true) {
      if (inBase64Key) {
        int at = base64Key(text, pos, out, last);
        if (at < 0) {
          return out.toString(); // all of it was key: dropped (held as needed)
        }
        pos = at;
      }
      if (inKey) {
        Matcher m = KEY_END.matcher(text);
        if (m.find(pos)) {
          pos = m.end();
          inKey = false;
        } else {
          keyDropped += text.length() - pos;
          if (keyDropped > MAX_KEY_BLOCK) {
            inKey = false; // no END line: resume with the text after the dropped part
            pos = Math.max(pos, text.length() - 48);
            text = text.substring(pos);
            pos = 0;
            held = "";
            if (last) {
              return out.append(profile.redact(text)).toString();
            }
            return out.append(process(text, false)).toString();
          }
          // Keep only enough to recognise an END line split across chunks; drop the key.
          held = last ? "" : text.substring(Math.max(pos, text.length() - 48));
          return out.toString();
        }
      }
      int safeEnd = last ? text.length() : escapeSafeEnd(text, pos);
      String body = text.substring(pos, safeEnd);
      if (body.indexOf(ESC) >= 0) {
        // Escape sequences inside a value (grep --color highlighting the matched part of a card
        // number or an email) must not hide it: detection runs on the visible text.
        // An OSC ended by ESC \ whose ESC is still to come is not finished: it waits.
        int finished = last ? body.length() : escapeSafeEnd(body, 0);
        String shown = body.substring(0, finished);
        Visible v = Visible.of(shown);
        List<Finding> found = findingsAfterContext(v.text);
        if (found.stream().noneMatch(f -> f.type().equals("private_key"))) {
          int cut = last ? v.text.length() : holdStart(v.text, found);
          int cutInBody = v.bodyIndex(cut, finished);
          if (!last) {
            // What the raw text still needs held (the start of an exact secret right after an
            // escape's first character, a value inside an escape at the end) wins when earlier.
            int rawCut = holdStart(shown, findings(shown));
            if (rawCut < cutInBody) {
              cut = v.visibleBefore(rawCut);
              boolean moved = true;
              while (moved) {
                moved = false;
                for (Finding f : found) {
                  if (f.start() < cut && cut < f.end()) {
                    cut = f.start();
                    moved = true;
                  }
                }
              }
              cutInBody = Math.min(rawCut, v.bodyIndex(cut, finished));
            }
          }
          out.append(rawPass(v.apply(shown, found, cut, cutInBody, profile)));
          emitted(v.text.substring(0, Math.min(cut, v.text.length())));
          held = body.substring(cutInBody) + text.substring(safeEnd);
          return out.toString();
        }
        // A private key in coloured output: the plain path below drops it (escapes and all).
      }
      List<Finding> found = findingsAfterContext(body);
      // A private key whose END has not arrived yet: emit the redaction, drop the rest.
      Finding openKey = null;
      for (Finding f : found) {
        if (f.type().equals("private_key")
            && f.end() == body.length()
            && !body.startsWith(ToolSecrets.BEGIN_B64, f.start())
            && !KEY_END.matcher(body.substring(f.start(), f.end())).find()) {
          openKey = f;
        }
      }
      if (openKey == null && !last) {
        for (Finding f : found) {
          if (f.type().equals("private_key")
              && body.startsWith(ToolSecrets.BEGIN_B64, f.start())
              && openBase64(body, f.end())) {
            openKey = f;
          }
        }
        if (openKey != null) {
          // A base64 key that may continue: redact it, then drop the rest of the run.
          out.append(profile.apply(body, found, 0, openKey.start()));
          out.append(profile.styleFor("private_key").apply("", "private_key"));
          context = "";
          inBase64Key = true;
          base64LineStart = false;
          base64Break = "";
          base64Line =
              openKey.end()
                  - Math.max(openKey.start(), body.lastIndexOf('\n', openKey.end() - 1) + 1);
          keyDropped = 0;
          text = body.substring(openKey.end()) + text.substring(safeEnd);
          pos = 0;
          continue;
        }
      }
      if (openKey != null) {
        out.append(profile.apply(body, found, 0, openKey.start()));
        out.append(profile.styleFor("private_key").apply("", "private_key"));
        context = "";
        inKey = true;
        keyDropped = 0;
        text = body.substring(openKey.end()) + text.substring(safeEnd);
        pos = 0;
        if (last) {
          held = "";
          return out.toString();
        }
        continue;
      }
      int cut = last ? body.length() : holdStart(body, found);
      out.append(profile.apply(body, found, 0, cut));
      emitted(body.substring(0, cut));
      held = body.substring(cut) + text.substring(safeEnd);
      return out.toString();
    }
  }

  /**
   * The findings of {@code body} read after {@link #context}: those that end in the context were
   * handled when it was emitted; one that began there is clipped to its part in {@code body}.
   */
  private List<Finding> findingsAfterContext(String body) {
    String before = tableHead.isEmpty() ? context : tableHead + "\n" + context;
    if (before.isEmpty()) {
      return findings(body);
    }
    return Scanner.after(findings(before + body), before.length());
  }

  /** Appends emitted (unmasked, visible) text to {@link #context}, keeping its last part. */
  private void emitted(String visible) {
    String all = context + visible;
    context = all.length() > CONTEXT ? all.substring(all.length() - CONTEXT) : all;
    int from = 0;
    int nl;
    while ((nl = visible.indexOf('\n', from)) >= 0) {
      String line = lineSoFar + visible.substring(from, nl);
      lineSoFar = "";
      tableLine(line.endsWith("\r") ? line.substring(0, line.length() - 1) : line);
      from = nl + 1;
    }
    lineSoFar += visible.substring(from, Math.min(visible.length(), from + MAX_TABLE_LINE));
    if (lineSoFar.length() > MAX_TABLE_LINE) {
      lineSoFar = lineSoFar.substring(0, MAX_TABLE_LINE);
    }
  }

  /**
   * The header of the key-value table being printed ({@code vault kv get}, a MySQL result), with
   * its border lines: the table rule masks a row only when it reads the header too, which may have
   * gone out far more than {@link #CONTEXT} characters before. Scanned before the context while the
   * lines that follow are rows; dropped on a blank line or a line that is no row.
   */
  private String tableHead = "";

  /** The last complete line emitted (a border before a MySQL header), and the current one. */
  private String lastLine = "";

  private String lineSoFar = "";

  /** The table's rows are between bars (MySQL), not after a {@code Key Value} header (Vault). */
  private boolean tableBars;

  /** Longest line kept for the table state: a header or a border is far shorter. */
  private static final int MAX_TABLE_LINE = 512;

  private void tableLine(String line) {
    if (ToolSecrets.keyValueHeader(line)) {
      tableHead = border(lastLine) ? lastLine + "\n" + line : line;
      tableBars = line.startsWith("|");
    } else if (!tableHead.isEmpty()) {
      if (border(line)) {
        if (tableHead.chars().filter(c -> c == '\n').count() < 2) {
          tableHead = tableHead + "\n" + line;
        }
      } else if (line.isBlank() || (tableBars && !line.startsWith("|"))) {
        tableHead = "";
      }
    }
    lastLine = line.length() > MAX_TABLE_LINE ? "" : line;
  }

  /** A table's border: {@code +----+------+} or {@code --- -----}. */
  private static boolean border(String line) {
    return line.indexOf('-') >= 0 && line.chars().allMatch(c -> c == '-' || c == '+' || c == ' ');
  }

  private List<Finding> findings(String body) {
    List<Finding> found = new ArrayList<>(profile.scanner.scan(body));
    if (secrets.length > 0) {
      String lower = null;
      for (int k = 0; k < secrets.length; k++) {
        String s = secrets[k];
        String in = body;
        if (fold[k]) {
          in = lower == null ? (lower = ExactSecrets.asciiLower(body)) : lower;
        }
        int from = 0;
        int i;
        while ((i = in.indexOf(s, from)) >= 0) {
          found.add(new Finding(i, i + s.length(), "secret", Integer.MAX_VALUE - 1));
          from = i + 1;
        }
      }
      found = Scanner.resolve(found);
    }
    return found;
  }

  /**
   * The second pass over coloured output: the escape sequences themselves are scanned too (an OSC
   * window title, an OSC 8 link, CSI parameter bytes, the character after a lone ESC can all carry
   * a value or an exact secret), on the text as it will be sent, with the visible values already
   * masked. What it finds is masked where it is, escape sequence or not: a terminal may then show a
   * garbled sequence, but nothing leaks.
   */
  private String rawPass(String woven) {
    List<Finding> raw = findings(woven);
    return raw.isEmpty() ? woven : profile.apply(woven, raw, 0, woven.length());
  }

  /**
   * A text without its escape sequences, and where each of its characters is in the original: so
   * that values split by colour codes are found, and masked with the codes kept in place.
   */
  static final class Visible {
    final String text;
    private final int[] at;

    private Visible(String text, int[] at) {
      this.text = text;
      this.at = at;
    }

    static Visible of(String body) {
      StringBuilder t = new StringBuilder(body.length());
      int[] at = new int[body.length()];
      int i = 0;
      while (i < body.length()) {
        if (body.charAt(i) == ESC) {
          i = Math.max(i + 1, escapeEnd(body, i));
          continue;
        }
        at[t.length()] = i;
        t.append(body.charAt(i));
        i++;
      }
      return new Visible(t.toString(), at);
    }

    /** The index in the original of visible index {@code k} ({@code end} past the last). */
    int bodyIndex(int k, int end) {
      return k >= text.length() ? end : at[k];
    }

    /** How many visible characters lie before index {@code i} of the original. */
    int visibleBefore(int i) {
      int k = 0;
      while (k < text.length() && at[k] < i) {
        k++;
      }
      return k;
    }

    /**
     * The original up to {@code cutInBody} (visible index {@code cut}), with each finding that ends
     * by {@code cut} replaced by its masked form and the escape sequences inside it re-inserted at
     * the same offsets (or at the end of a shorter replacement).
     */
    String apply(String body, List<Finding> found, int cut, int cutInBody, Profile profile) {
      StringBuilder b = new StringBuilder(body.length() + 16);
      int pos = 0;
      for (Finding f : found) {
        if (f.end() > cut) {
          continue;
        }
        int start = at[f.start()];
        int end = at[f.end() - 1] + 1;
        b.append(body, pos, start);
        String r = profile.styleFor(f.type()).apply(text.substring(f.start(), f.end()), f.type());
        int visible = 0;
        int written = 0;
        int o = start;
        while (o < end) {
          if (body.charAt(o) == ESC) {
            int want = Math.min(visible, r.length());
            if (want > written) {
              b.append(r, written, want);
              written = want;
            }
            int e = Math.max(o + 1, escapeEnd(body, o));
            b.append(body, o, e);
            o = e;
          } else {
            visible++;
            o++;
          }
        }
        b.append(r, written, r.length());
        pos = end;
      }
      b.append(body, pos, Math.max(pos, cutInBody));
      return b.toString();
    }
  }

  /**
   * True when a base64 key ending at {@code end} may continue in the next chunk: it reaches the end
   * of the text, or only a line break follows a line long enough to be wrapped.
   */
  private static boolean openBase64(String body, int end) {
    if (end == body.length()) {
      return true;
    }
    int lineStart = body.lastIndexOf('\n', end - 1) + 1;
    String rest = body.substring(end);
    return end - lineStart >= ToolSecrets.WRAP_MIN
        && (rest.equals("\n") || rest.equals("\r\n") || rest.equals("\r"));
  }

  /**
   * Drops the continuation of a base64 key from {@code pos}: the rest of its line, and then each
   * following line that is base64 through its end while the lines are long enough to be wrapped.
   * Returns where ordinary text resumes, or -1 when all of {@code text} was consumed (the part of a
   * line that may still turn out to be key is held). Bounded by {@link #MAX_KEY_BLOCK}.
   */
  private int base64Key(String text, int pos, StringBuilder out, boolean last) {
    int n = text.length();
    while (keyDropped <= MAX_KEY_BLOCK) {
      if (base64LineStart) {
        int j = pos;
        while (j < n && ToolSecrets.isBase64(text.charAt(j))) {
          j++;
        }
        if (j == n && j > pos && last) {
          inBase64Key = false; // the stream ends (or pauses) on a line of the key: drop it
          held = "";
          return -1;
        }
        if (j == n && last) {
          inBase64Key = false;
          out.append(base64Break);
          held = "";
          return -1;
        }
        if (j == n && j - pos <= MAX_HOLD) {
          held = text.substring(pos); // not known yet whether this line is key
          return -1;
        }
        boolean lineEnd =
            j < n
                && (text.charAt(j) == '\n'
                    || (text.charAt(j) == '\r' && (j + 1 == n || text.charAt(j + 1) == '\n')));
        if (j == pos || !lineEnd) {
          inBase64Key = false;
          out.append(base64Break); // the key ended with the line before
          return pos; // not a key line: ordinary text
        }
        keyDropped += j - pos;
        base64Line = j - pos;
        base64LineStart = false;
        pos = j;
        continue;
      }
      int j = pos;
      while (j < n && ToolSecrets.isBase64(text.charAt(j))) {
        j++;
      }
      keyDropped += j - pos;
      base64Line += j - pos;
      if (j == n) {
        held = "";
        if (last) {
          inBase64Key = false;
        }
        return -1;
      }
      char c = text.charAt(j);
      if (c == '\r' && j + 1 == n && !last) {
        held = "\r"; // a CR LF split between chunks
        return -1;
      }
      if (base64Line >= ToolSecrets.WRAP_MIN && (c == '\n' || c == '\r')) {
        // The line ends: its break is kept until the next line shows whether the key goes on.
        int e = c == '\r' && j + 1 < n && text.charAt(j + 1) == '\n' ? j + 2 : j + 1;
        base64Break = text.substring(j, e);
        pos = e;
        base64LineStart = true;
        continue;
      }
      inBase64Key = false;
      return j;
    }
    inBase64Key = false; // no end within the bound: resume
    if (base64LineStart) {
      out.append(base64Break);
    }
    return pos;
  }

  /** Where the held-back tail starts. */
  private int holdStart(String body, List<Finding> found) {
    int n = body.length();
    int floor = Math.max(0, n - MAX_HOLD);
    // The whole unfinished line: the words before a value decide whether and how the whole-text
    // path masks it (an assignment's name, however spelt; an IBAN's or card's first groups and the
    // punctuation before them; "version" before a dotted quad), and values do not span lines
    // (multi-line ones, keys and Terraform outputs, are held below). A prompt without a newline
    // still goes out on an idle flush.
    int cut = Math.max(floor, body.lastIndexOf('\n', n - 1) + 1);
    if (n - cut > LINE_WINDOW) {
      // A long line (minified JS, a JSON log, base64): only its last LINE_WINDOW characters are
      // rescanned with each chunk, from the start of the word there (a token has no break in it).
      // What goes out stays in the context, so the words before a held value still decide it;
      // only a value whose unfinished part is longer than the window, with breaks in it, could be
      // split, and those (a quoted value, a Terraform output) are held from their start below.
      int w = n - LINE_WINDOW;
      while (w > cut && !isBreak(body.charAt(w - 1))) {
        w--;
      }
      cut = w;
    }
    String lower = null;
    for (int j = 0; j < secrets.length; j++) {
      String in = body;
      if (fold[j]) {
        in = lower == null ? (lower = ExactSecrets.asciiLower(body)) : lower;
      }
      int k = longestSuffixPrefix(in, secrets[j]);
      cut = Math.min(cut, n - k);
    }
    for (Finding f : found) {
      if (f.end() >= n && f.start() >= floor) {
        cut = Math.min(cut, f.start());
      }
    }
    // A quoted value that has begun after a secret's name may have spaces: hold from the name.
    int line = Math.max(floor, body.lastIndexOf('\n', n - 1) + 1);
    if (cut > line && (body.indexOf('"', line) >= 0 || body.indexOf('\'', line) >= 0)) {
      Matcher m = OPEN_ASSIGNMENT.matcher(body).region(line, n);
      if (m.find() && (m.group(1) != null || m.group(2) != null)) {
        int w = m.start();
        while (w > line && !isBreak(body.charAt(w - 1))) {
          w--;
        }
        cut = Math.min(cut, w);
      }
    }
    // A sensitive Terraform output whose value has not arrived: its members come line by line.
    if (body.indexOf("\"sensitive\"", floor) >= 0) {
      int open = ToolSecrets.TerraformSensitive.openFrom(body, floor, cut);
      if (open >= 0) {
        cut = Math.min(cut, open);
      }
    }
    // Never cut through a finding: either hold all of it or emit all of it.
    boolean moved = true;
    while (moved) {
      moved = false;
      for (Finding f : found) {
        if (f.start() < cut && cut < f.end()) {
          // An assignment's value that has ended (a terminator follows) is emitted whole: held on
          // its own, without its name, it would no longer be found.
          boolean ended = f.end() < n && f.type().equals("assignment");
          cut = !ended && (f.start() >= floor || f.type().equals("secret")) ? f.start() : f.end();
          moved = true;
        }
      }
    }
    return notInsideEscape(body, cut);
  }

  /**
   * Moves {@code cut} back to the start of an escape sequence that it would split. An unfinished
   * one that starts more than {@link #MAX_HOLD} characters back is let through, as {@link
   * #escapeSafeEnd} lets it through: held, it would keep all the text after it.
   */
  static int notInsideEscape(String s, int cut) {
    int n = s.length();
    int esc = s.indexOf(ESC);
    while (esc >= 0 && esc < cut) {
      int end = escapeEnd(s, esc);
      if (cut < end && !(end == n && esc < n - MAX_HOLD)) {
        return esc;
      }
      esc = s.indexOf(ESC, Math.max(end, esc + 1));
    }
    return cut;
  }

  /** End (exclusive) of the escape sequence starting at {@code esc}; text end if unfinished. */
  static int escapeEnd(String s, int esc) {
    int n = s.length();
    if (esc + 1 >= n) {
      return n;
    }
    char k = s.charAt(esc + 1);
    if (k == '[') {
      for (int i = esc + 2; i < n; i++) {
        char c = s.charAt(i);
        if (c >= 0x40 && c <= 0x7e) {
          return i + 1;
        }
        if (c < 0x20 || c > 0x3f) {
          return i;
        }
      }
      return n;
    }
    if (k == ']' || k == 'P' || k == '_' || k == '^') {
      for (int i = esc + 2; i < n; i++) {
        char c = s.charAt(i);
        if (c == 0x07) {
          return i + 1;
        }
        if (c == ESC && i + 1 < n && s.charAt(i + 1) == '\\') {
          return i + 2;
        }
      }
      return n;
    }
    return esc + 2;
  }

  private static boolean isBreak(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ESC || c == 0x07;
  }

  /** Longest k < |secret| such that the text ends with the first k characters of secret. */
  static int longestSuffixPrefix(String text, String secret) {
    int max = Math.min(secret.length() - 1, text.length());
    char first = secret.charAt(0);
    for (int k = max; k >= 1; k--) {
      if (text.charAt(text.length() - k) == first
          && text.regionMatches(text.length() - k, secret, 0, k)) {
        return k;
      }
    }
    return 0;
  }

  /**
   * End of the part of {@code text} (from {@code pos}) that contains no unfinished escape sequence.
   * An unfinished sequence longer than {@link #MAX_HOLD} is let through.
   */
  static int escapeSafeEnd(String text, int pos) {
    int n = text.length();
    int esc = text.lastIndexOf(ESC);
    if (esc < pos) {
      return n;
    }
    // An OSC may contain the ESC of its own terminator (ESC \); find the sequence start.
    if (esc + 1 < n && text.charAt(esc + 1) == '\\') {
      return n;
    }
    if (n - esc > MAX_HOLD) {
      return n;
    }
    if (esc + 1 >= n) {
      return esc;
    }
    char k = text.charAt(esc + 1);
    if (k == '[') {
      for (int i = esc + 2; i < n; i++) {
        char c = text.charAt(i);
        if (c >= 0x40 && c <= 0x7e) {
          return n; // final byte: complete
        }
        if (c < 0x20 || c > 0x3f) {
          return n; // malformed: not ours to hold
        }
      }
      return esc;
    }
    if (k == ']' || k == 'P' || k == '_' || k == '^') {
      for (int i = esc + 2; i < n; i++) {
        if (text.charAt(i) == 0x07) {
          return n;
        }
      }
      return esc; // terminated by BEL or ESC \ still to come
    }
    return n; // two-character escape, complete
  }
}
