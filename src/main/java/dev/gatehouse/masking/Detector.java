package dev.gatehouse.masking;

import java.util.List;

/**
 * Finds sensitive spans in text. Each detector states cheaply checkable preconditions (a character
 * it needs, a minimum number of digits in one numeric run, a minimum token length, trigger
 * keywords) so the {@link Scanner} can skip it after a single pre-filter pass over the text; only
 * armed detectors do real work.
 */
abstract class Detector {
  /** Pre-filter flags, see {@link Scanner}. A detector runs when it needs none or any is set. */
  static final int F_AT = 1;

  /** Three dots between digits ({@code 1.2.3.4}), as every dotted quad has. */
  static final int F_DOT3 = 1 << 1;

  /** Two colons in a row or seven colons: the compressed or full form of an IPv6 address. */
  static final int F_V6 = 1 << 2;

  static final int F_IBAN = 1 << 3;
  static final int F_EQ = 1 << 4;
  static final int F_COLON = 1 << 5;
  static final int F_GT = 1 << 6;
  static final int F_DASH = 1 << 7;
  static final int F_ANYDOT = 1 << 8;

  /** Five dashes in a row, as in a PEM boundary. */
  static final int F_DASH5 = 1 << 9;

  /**
   * A run of digits joined by separators with 8 digits counted from a leading {@code +}, {@code (}
   * or {@code 0}, or ending in groups of 3, 3 and 4 digits (NANP): every phone number the phone
   * detector accepts has one of these; dates, times, amounts and order numbers do not.
   */
  static final int F_PHONE = 1 << 10;

  /** Nine digits in a row, or groups of 3, 2 and 4 joined by the same dash or space. */
  static final int F_SSN = 1 << 11;

  /** A {@code %}: the escapes of URL encoding (an address written {@code carol%40example.net}). */
  static final int F_PCT = 1 << 12;

  /**
   * Eight or more digits in a row, or groups of 3, 3 and 3 or 4, 4 and 4 digits: the bare or
   * grouped national number a phone word may name ({@code tel 612345678}, {@code Tel. 612 345 678};
   * see {@code PiiDetectors.Phone.Context}) and the 12-digit Maestro layouts. Free text with a
   * phone number in international form (which sets {@link #F_PHONE}) does not set it, so that it
   * does not pay for the phone words' search nor for the 12-digit card search.
   */
  static final int F_NUM8 = 1 << 13;

  /**
   * Four colons without whitespace between them: the fields of a {@code .pgpass} line ({@code
   * host:port:db:user:password}); timestamps ({@code 10:11:12 10:11:12}) do not set it.
   */
  static final int F_COLON4 = 1 << 15;

  final String type;
  final int priority;

  Detector(String type, int priority) {
    this.type = type;
    this.priority = priority;
  }

  /** Flags of which at least one must be present; 0 for none required. */
  int needFlags() {
    return 0;
  }

  /** Minimum digits in one numeric run (digits joined by short separators). */
  int minNumericRun() {
    return 0;
  }

  /** Minimum length of one run of token characters ({@code [A-Za-z0-9+/=_-]}). */
  int minTokenRun() {
    return 0;
  }

  /**
   * The fewest characters a value must have for this detector to find anything in it (0: no bound).
   * The gates skip the detector for shorter values, which the first pass cannot tell otherwise (an
   * upper-case code with digits, {@code SKU-55276}, looks like the start of an IBAN).
   */
  int minLength() {
    return 0;
  }

  /**
   * Lower-case trigger strings; when non-empty the detector runs only if one occurs in the text
   * (case-insensitively).
   */
  List<String> keywords() {
    return List.of();
  }

  /**
   * Whether this detector can find something only in a value with a character outside ASCII (a word
   * in another script before its value): a gate that holds together with {@link #needFlags}, not as
   * one of them ({@code Triage#F_WIDE}), so that ASCII values with {@code :} or {@code =} (every
   * timestamp) do not arm it.
   */
  boolean needsNonAscii() {
    return false;
  }

  /**
   * Whether this detector has a gate of its own on ASCII bytes ({@link #mayFindAscii}); checked
   * once when the {@link Scanner} is built.
   */
  boolean hasAsciiGate() {
    return false;
  }

  /**
   * A necessary condition of a finding, read on the UTF-8 bytes of a value before its keywords are
   * searched for (only for a detector that {@link #hasAsciiGate}, and only when every armed
   * detector is keyword-gated: {@code Scanner#keywordsPresentUtf8}): false only when {@link #find}
   * can find nothing in the decoded text. It must answer true at any byte it cannot judge: a
   * non-ASCII byte (an invisible character the String path reads through) and the control
   * characters the String path reads as invisible ({@code Scanner#hasControls}). For a cheap
   * character test that ordinary values (names, sentences, timestamps) fail, where the keywords'
   * letters are in most of them. A detector may override it with a loop of its own (its test then
   * inlined there): the call of {@link #gateAt} below is made for every byte, and with a third
   * detector's gate behind it, it was no longer inlined (orders DataRows at 0.86 of main).
   */
  boolean mayFindAscii(byte[] b, int off, int len) {
    int end = off + len;
    for (int i = off; i < end; i++) {
      int c = b[i];
      // a byte it cannot judge: non-ASCII, or a control character but tab and line feed
      if ((c < 0x20 ? c != '\t' && c != '\n' : c >= 0x7f) || gateAt(c, b, i, end)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The test of {@link #mayFindAscii} at {@code b[i]}, which is {@code c}, an ASCII character that
   * is not a control character (tab and line feed aside): true when a finding may start here.
   */
  boolean gateAt(int c, byte[] b, int i, int end) {
    return true;
  }

  /**
   * The detectors the {@link Scanner} gates and runs for this one (this one alone by default): a
   * detector whose parts need different flags or keywords, so that one part's keywords do not arm
   * the other's search. A profile holds, adds and removes the detector under its type as one.
   */
  List<Detector> parts() {
    return List.of(this);
  }

  /** Adds findings in {@code text} to {@code out}. Must not throw on any input. */
  abstract void find(String text, List<Finding> out);

  final void add(List<Finding> out, int start, int end) {
    if (end > start) {
      out.add(new Finding(start, end, type, priority));
    }
  }

  @Override
  public String toString() {
    return type;
  }
}
