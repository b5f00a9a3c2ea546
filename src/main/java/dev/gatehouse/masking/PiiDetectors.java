package dev.gatehouse.masking;

import static dev.gatehouse.masking.Checks.isAlnum;
import static dev.gatehouse.masking.Checks.isAsciiLetter;
import static dev.gatehouse.masking.Checks.isDigit;
import static dev.gatehouse.masking.Checks.isHex;
import static dev.gatehouse.masking.Checks.isWord;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Personal data detectors: hand-written scanners with validation (checksums, numbering-plan and
 * registry rules) rather than regular expressions, so that they run in linear time and reject
 * look-alikes such as order numbers, dates and version strings.
 */
final class PiiDetectors {
  private PiiDetectors() {}

  /**
   * A digit may start a number only if it is not glued to a word or a decimal part. A comma counts
   * as part of a number only as a thousands separator: after a group of at most three digits and
   * before a group of exactly three that the number does not continue past with another separator
   * ({@code 1,234}, {@code 12,345.67}; {@link #thousandsGroup}). Otherwise it separates fields, as
   * in CSV lines ({@code 139,5555-5414-7943-4616}: a customer id, then a card), PostgreSQL array,
   * record and composite text ({@code (1,139,078-05-1120)}) and lists.
   */
  static boolean leftBlocked(String s, int i) {
    if (i == 0) {
      return false;
    }
    char p = s.charAt(i - 1);
    if (isWord(p)) {
      return !escapedControl(s, i - 1);
    }
    if (i < 2) {
      return false;
    }
    char q = s.charAt(i - 2);
    if (p == ',') {
      return isDigit(q) && digitsEndingAt(s, i - 1) <= 3 && thousandsGroup(s, i);
    }
    return (p == '.' || p == '-' || p == '/') && isAlnum(q);
  }

  /**
   * Whether the letter at {@code k} is the second character of an escape for a line break or tab
   * ({@code \n}, {@code \r}, {@code \t} after an odd run of backslashes): a line of a multi-line
   * value as COPY's text format (PostgreSQL docs, COPY, "Text Format") and a JSON string (RFC 8259
   * §7) write it. The number after it starts a line, it is not glued to a word ({@code Best
   * regards,\n020 7946 0958} came back in clear through COPY, red team mask20). Only called for a
   * letter before a digit, so a value without such a letter pays nothing.
   */
  static boolean escapedControl(String s, int k) {
    char c = s.charAt(k);
    if (c != 'n' && c != 'r' && c != 't') {
      return false;
    }
    int b = k - 1;
    while (b >= 0 && s.charAt(b) == '\\') {
      b--;
    }
    return ((k - 1 - b) & 1) == 1;
  }

  /**
   * A number ends only where no word, digit or decimal continuation follows. A comma continues it
   * only when the number's last group has at most three digits and a thousands group follows
   * ({@link #thousandsGroup}); {@code 101-02-2844,x}, {@code 4111111111111111,5500000000000004} and
   * {@code 3056 9309 0259 04,1473.29} end at the comma.
   */
  static boolean rightBlocked(String s, int end) {
    if (end >= s.length()) {
      return false;
    }
    char c = s.charAt(end);
    if (isWord(c)) {
      return true;
    }
    if (end + 1 >= s.length()) {
      return false;
    }
    char d = s.charAt(end + 1);
    if (c == ',') {
      return isDigit(d) && digitsEndingAt(s, end) <= 3 && thousandsGroup(s, end + 1);
    }
    return (c == '.' || c == '-' || c == '/') && isAlnum(d);
  }

  /**
   * Whether exactly three digits start at {@code k} and the number does not go on after them with a
   * space, dash, slash or underscore and a digit: a thousands group ({@code 1,234}, {@code
   * 1,234,567}, {@code 1,234.5}), not the first group of a phone number or an SSN after a CSV field
   * ({@code 139,020 7946 0958}, {@code 1,078-05-1120}) nor a longer number ({@code
   * 12,4111111111111111}).
   */
  static boolean thousandsGroup(String s, int k) {
    int n = s.length();
    if (!digits(s, k, 3)) {
      return false;
    }
    int e = k + 3;
    if (e >= n) {
      return true;
    }
    char c = s.charAt(e);
    if (isDigit(c)) {
      return false;
    }
    boolean sep = c == ' ' || c == '-' || c == '/' || c == '_' || Checks.isNoBreakSpace(c);
    if (c == '.') {
      // 141,415.555.0177 is a field and a dotted phone number: a decimal has one point.
      int f = e + 1;
      while (f < n && isDigit(s.charAt(f))) {
        f++;
      }
      return !(f > e + 1 && f + 1 < n && s.charAt(f) == '.' && isDigit(s.charAt(f + 1)));
    }
    return !(sep && e + 1 < n && isDigit(s.charAt(e + 1)));
  }

  /**
   * {@link #leftBlocked} for shapes validated strongly enough (a card's Luhn digit and issuer
   * range, an SSN's 3-2-4 layout and issuance rules) that a letter glued to them does not make them
   * a look-alike: {@code x5555-5414-7943-4616} and {@code INV7841111111111111111} are read, as the
   * masking red team found a letter was enough to hide a card. A digit or a thousands comma before
   * still blocks, and so, for a shape without separators ({@code grouped} false), do the {@code .},
   * {@code -} and {@code /} after a letter or digit of {@link #leftBlocked}: the fraction of {@code
   * 0.4532015112830366} is not a card.
   */
  static boolean strongLeftBlocked(String s, int i, boolean grouped) {
    if (i == 0) {
      return false;
    }
    char p = s.charAt(i - 1);
    if (isDigit(p)) {
      return true;
    }
    if (isWord(p)) {
      return false;
    }
    if (!grouped
        && p == ','
        && i >= 2
        && s.charAt(i - 2) == '0'
        && (i < 3 || !isWord(s.charAt(i - 3)))) {
      return true; // 0,4111111111111111: a fraction with a decimal comma (an id is seldom 0)
    }
    return (!grouped || p == ',') && leftBlocked(s, i);
  }

  /**
   * {@link #rightBlocked} for the shapes of {@link #strongLeftBlocked}: a letter or underscore
   * after them does not block ({@code 4111 1111 1111 1111x}, {@code 078-05-1120x}), a digit, a
   * thousands comma or a {@code .}, {@code -} or {@code /} before a digit does.
   */
  static boolean strongRightBlocked(String s, int end) {
    int n = s.length();
    if (end >= n) {
      return false;
    }
    char c = s.charAt(end);
    if (isDigit(c)) {
      return true;
    }
    if (c == ',') {
      return rightBlocked(s, end);
    }
    return (c == '.' || c == '-' || c == '/') && end + 1 < n && isDigit(s.charAt(end + 1));
  }

  /** How many digits stand right before index {@code end} (counting at most four). */
  private static int digitsEndingAt(String s, int end) {
    int k = end;
    while (k > 0 && end - k < 4 && isDigit(s.charAt(k - 1))) {
      k--;
    }
    return end - k;
  }

  /**
   * The middle dot U+00B7, the bullet U+2022, VT and FF: separators between digit groups that the
   * scanner keeps as they are (a middle dot is also a Catalan letter joiner and a multiplication
   * sign, a bullet starts list items, VT and FF are layout controls), read by the card, phone and
   * SSN detectors between two groups only: {@code 4111·1111·1111·1111}, {@code 415•555•0100},
   * {@code 536·22·1234}. The Luhn digit, the issuer ranges, the phone layouts and the SSN's 3-2-4
   * shape and issuance rules decide as for the ASCII separators.
   */
  static boolean dotOrControl(char c) {
    return c == '\u00b7' || c == '\u2022' || c == '\u000b' || c == '\u000c';
  }

  /**
   * Payment card numbers: 13-19 digits, optionally grouped by spaces, dashes (also with a space on
   * each side), dots or underscores (one kind per number; dots as in {@code 4111.1111.1111.1111},
   * seen in exports and logs, underscores as in {@code 4350_3359_7478_2425}, from field names and
   * file names), with a known issuer prefix for the length and a valid Luhn check digit. No-break
   * and thin spaces ({@link Checks#isNoBreakSpace}: text copied from a browser or a spreadsheet
   * export) count as spaces.
   */
  static final class Card extends Detector {
    /** The part that also reads 12-digit Maestro numbers (see {@link #parts}). */
    private final boolean twelve;

    Card() {
      this(false);
    }

    private Card(boolean twelve) {
      super("card", 80);
      this.twelve = twelve;
    }

    /**
     * This (13-19 digits) and a part for 12-digit Maestro numbers, gated by {@link #F_NUM8} (12
     * digits in a row, or 4-4-4 groups), so that values with 12 digits in other groupings (a phone
     * number {@code +44 20 7946 1234}) do not run the card search.
     */
    @Override
    List<Detector> parts() {
      return List.of(this, new Card(true));
    }

    @Override
    int needFlags() {
      return twelve ? F_NUM8 : 0;
    }

    @Override
    int minNumericRun() {
      return twelve ? 12 : 13;
    }

    @Override
    void find(String s, List<Finding> out) {
      int n = s.length();
      int[] ends = new int[20];
      int[] counts = new int[20];
      int i = 0;
      // A restart at the second group of a run that held no card (see below): whether a plain
      // reading may start there (after a space, not after a dot or a dash).
      int restart = -1;
      boolean restartPlain = false;
      while (i < n) {
        char c = s.charAt(i);
        if (!isDigit(c)) {
          i++;
          continue;
        }
        boolean plainBlocked;
        // Dotted groups glued to a letter are a version (v4111.1111.1111.1111), not a card.
        boolean dotsBlocked = i != restart && i > 0 && isWord(s.charAt(i - 1));
        if (i == restart) {
          plainBlocked = !restartPlain;
        } else if (strongLeftBlocked(s, i, true)) {
          while (i < n && isDigit(s.charAt(i))) {
            i++;
          }
          continue;
        } else {
          plainBlocked = strongLeftBlocked(s, i, false) && !afterWordSlash(s, i);
        }
        int j = i;
        int digits = 0;
        int groups = 0;
        char sep = 0;
        while (true) {
          int gs = j;
          while (j < n && isDigit(s.charAt(j)) && j - gs < 20) {
            j++;
          }
          int len = j - gs;
          digits += len;
          ends[groups] = j;
          counts[groups] = digits;
          groups++;
          if (groups == ends.length || digits > 19) {
            break;
          }
          // One separator between groups, the same throughout; a doubled space (text aligned
          // by hand) counts as one.
          int gap = separatorGap(s, j, sep);
          if (gap > 0) {
            sep = gap == 3 ? SPACED_DASH : separatorKind(s.charAt(j));
            j += gap;
          } else {
            break;
          }
        }
        // Shorter readings when the run is too long to be one card (card + other number), or when
        // its first group is already too long for a grouped card: "4111111111111111 12/27" is a
        // card and an expiry date.
        // A grouped card and one short group after it (an expiry 12/27, a time 10:45, a CVV, four
        // digits: "4166 1318 6091 3909 12/27") reads the card without that group.
        int lowest =
            counts[groups - 1] > 19 || counts[0] > 6
                ? 0
                : groups > 3
                        && !twelve
                        && counts[groups - 1] - counts[groups - 2] <= 4
                        && (i != restart || s.charAt(i - 1) == '\t')
                    ? groups - 2
                    : groups - 1;
        boolean found = false;
        int next = -1;
        // The 12-digit part reads no number that starts right after another digit group and a
        // separator: it resumes after a run at the next group, which may be inside a longer
        // number whose separator changed (1564<TAB>5634  6878  7744  0549, a COPY row: the run
        // 1564<TAB>5634 ends at the doubled space and 6878  7744  0549 is a 4-4-4 Maestro
        // reading, which 5634  6878  7744  0549 alone never gives). A 12-digit number is too weak
        // a reading inside a longer one; a card read first (a restart after it) is not inside.
        boolean inside = twelve && i != restart && afterGroup(s, i);
        for (int g = groups - 1; g >= lowest && !inside; g--) {
          int d = counts[g];
          if (d < (twelve ? 12 : 13) || d > 19) {
            continue;
          }
          if (d == 12
              && (g == 0 ? !cardContext(s, i) : g != 2 || counts[0] != 4 || counts[1] != 8)) {
            continue; // 12-digit Maestro: 4-4-4, or plain after a card word
          }
          int end = ends[g];
          if (g == groups - 1 && strongRightBlocked(s, end)) {
            continue;
          }
          if (g == 0
              ? plainBlocked
              : !groupShapeOk(s, i, counts, g, sep) || (dotsBlocked && sep == '.')) {
            continue;
          }
          if (valid(s, i, end, d)) {
            add(out, i, end);
            found = true;
            if (g < groups - 1) {
              // Groups after the card (read as part of a too-long run): a second card joined by
              // one separator, "4111111111111111 5500005555555559" or string_agg(card, ' ').
              // Resume at the next group, not after the run: each restart moves past at least
              // one group of the bounded read (at most 20 groups of 20 digits), so the scan
              // stays linear on long runs.
              next = nextDigit(s, end);
            }
            break;
          }
        }
        if (next > 0) {
          restart = next;
          restartPlain = true;
          i = next;
          continue;
        }
        if (!found && groups >= 5 && fourFours(counts)) {
          // Five or more groups whose first four have four digits (20 or more digits in fours,
          // 9400 1111 2222 3333 4444 55: a USPS tracking number, an account or reference
          // number) and no card from the first group: no reading starts at a later group, and
          // the scan resumes after the whole run (read only to its first 20 digits above), as a
          // phone number is not read in that layout either (Phone's cardLayout).
          j = runEnd(s, j, sep);
        } else if (!found
            && !twelve
            && groups > 1
            && (counts[groups - 1] - counts[0] >= 13 || digitWithin(s, j, 3))) {
          // Group-aligned readings without the first group: a card after a number and a space
          // ("Invoice 7 4111 1111 1111 1111", "qty 2 4111111111111111") or after a number in
          // another grouping ("1.5555-5414-7943-4616", "5 4111-1111-1111-1111"). A plain run
          // only after a short number and a space: "ref 606900 4454414531983" is one reference.
          // Not for 12-digit Maestro numbers, too weak a reading inside a longer number.
          int second = nextDigit(s, ends[0]);
          restart = second;
          // After a tab (a COPY text row, id<TAB>card) whatever the number before it, and after a
          // dash following a short number (row-17-6304774760739563974) as after a space.
          char before = separatorKind(s.charAt(ends[0]));
          // After a slash as after one glued to a word (v1/4111111111111111, see afterWordSlash).
          // After a middle dot, bullet, VT or FF as after any other character that is not a
          // separator: they join groups only in this detector (dotOrControl), and a plain card
          // after them (1·4111111111111111, 20240101•4111111111111111) is read as it was
          // before they did.
          restartPlain =
              before == '\t'
                  || ((before == ' ' || before == '-') && counts[0] <= 4)
                  || dotOrControl(before)
                  || afterWordSlash(s, second);
          i = second;
          continue;
        }
        i = j + 1;
        while (i < n && isDigit(s.charAt(i - 1)) && isDigit(s.charAt(i))) {
          i++;
        }
      }
    }

    /**
     * The length of the separator at {@code j} between two digit groups (0 when there is none):
     * space (or a no-break, thin or ideographic space), dash, dot, slash, underscore, tab or {@code
     * #}, two spaces, or a dash with a space on each side ({@code 4350 - 3359 - 7478 - 2425});
     * {@code sep} is the {@link #separatorKind} of the earlier groups (0 before the first).
     */
    /** The {@link #separatorGap} kind of {@code " - "} (a dash with a space on each side). */
    private static final char SPACED_DASH = 'm';

    private static int separatorGap(String s, int j, char sep) {
      int n = s.length();
      if (j + 1 >= n) {
        return 0;
      }
      char c = separatorKind(s.charAt(j));
      if (c == ' '
          && j + 3 < n
          && s.charAt(j + 1) == '-'
          && s.charAt(j + 2) == ' '
          && isDigit(s.charAt(j + 3))) {
        return sep == 0 || sep == SPACED_DASH ? 3 : 0;
      }
      if ((c != ' '
              && c != '-'
              && c != '.'
              && c != '/'
              && c != '_'
              && c != '\t'
              && c != '#'
              && !dotOrControl(c))
          || (sep != 0 && sep != c)) {
        return 0;
      }
      if (isDigit(s.charAt(j + 1))) {
        return 1;
      }
      return c == ' '
              && j + 2 < n
              && separatorKind(s.charAt(j + 1)) == ' '
              && isDigit(s.charAt(j + 2))
          ? 2
          : 0;
    }

    /**
     * Whether a slash after a word with a letter stands right before {@code i}: a card joined to a
     * path or a name ({@code x/4017440016962}, {@code /orders/4111111111111111}, {@code
     * v1/4111111111111111}) is read like one after a space, where the Luhn digit and the issuer
     * range decide as for any plain run. A slash after digits only stays a fraction or a date
     * ({@code 12/4111111111111111}), as in {@link #leftBlocked}.
     */
    static boolean afterWordSlash(String s, int i) {
      if (i < 2 || s.charAt(i - 1) != '/') {
        return false;
      }
      for (int k = i - 2; k >= 0 && i - k <= 33 && isAlnum(s.charAt(k)); k--) {
        if (!isDigit(s.charAt(k))) {
          return true;
        }
      }
      return false;
    }

    /** The index of the first digit at or after {@code k} (a group start; the read saw one). */
    private static int nextDigit(String s, int k) {
      while (!isDigit(s.charAt(k))) {
        k++;
      }
      return k;
    }

    /** Whether a digit follows {@code s[j]} within {@code k} characters (the run went on). */
    private static boolean digitWithin(String s, int j, int k) {
      for (int m = j + 1; m <= j + k && m < s.length(); m++) {
        if (isDigit(s.charAt(m))) {
          return true;
        }
      }
      return false;
    }

    /** Words before a plain 12-digit Maestro number, lower case. */
    private static final String[] CARD_WORDS = {
      "card", "maestro", "paid", "pay", "payment", "debit", "pan", "cc", "karte", "tarjeta", "carte"
    };

    /**
     * Whether one of {@link #CARD_WORDS} is among the three words before {@code i} (within 24
     * characters): a plain 12-digit number is otherwise as often an account or order id (an AWS
     * account id has 12 digits).
     */
    static boolean cardContext(String s, int i) {
      int from = Math.max(0, i - 24);
      int k = i;
      for (int words = 0; words < 3 && k > from; words++) {
        while (k > from && !Character.isLetter(s.charAt(k - 1))) {
          k--;
        }
        int we = k;
        while (k > from && Character.isLetter(s.charAt(k - 1))) {
          k--;
        }
        for (String w : CARD_WORDS) {
          if (we - k == w.length() && s.regionMatches(true, k, w, 0, w.length())) {
            return true;
          }
        }
      }
      return false;
    }

    /**
     * A separator with the no-break and thin spaces read as a space, and the en dash as a dash: the
     * scanner keeps the en dash (it also writes ranges, {@link Checks#separatorFold}), but between
     * the groups of a card number it is a dash that a word processor put for a typed one ({@code
     * 4111–1111–1111–1111}), and the Luhn check and the group shapes keep ranges out.
     */
    private static char separatorKind(char c) {
      return c == '\u2013' ? '-' : Checks.isNoBreakSpace(c) ? ' ' : c;
    }

    /** Whether the first four groups of a run have four digits each (counts are cumulative). */
    private static boolean fourFours(int[] counts) {
      return counts[0] == 4 && counts[1] == 8 && counts[2] == 12 && counts[3] == 16;
    }

    /**
     * The end of the digit groups joined by {@code sep} to the run that ends at {@code j}: the rest
     * of a run that {@link #find} read only to its first 20 digits.
     */
    private static int runEnd(String s, int j, char sep) {
      int n = s.length();
      int gap;
      while ((gap = separatorGap(s, j, sep)) > 0) {
        j += gap;
        while (j < n && isDigit(s.charAt(j))) {
          j++;
        }
      }
      return j;
    }

    /**
     * Whether a digit group and one {@link #separatorGap} (a separator, two spaces or {@code " -
     * "}) stand right before {@code i}: the digits at {@code i} continue a grouped number.
     */
    static boolean afterGroup(String s, int i) {
      int k = i - 1; // the separator's last character
      if (k < 1) {
        return false;
      }
      char c = separatorKind(s.charAt(k));
      if (c == ' ' && k >= 3 && s.charAt(k - 1) == '-' && s.charAt(k - 2) == ' ') {
        k -= 2; // " - "
      } else if (c == ' ' && separatorKind(s.charAt(k - 1)) == ' ') {
        k--; // two spaces
      } else if (c != ' '
          && c != '-'
          && c != '.'
          && c != '/'
          && c != '_'
          && c != '\t'
          && c != '#'
          && !dotOrControl(c)) {
        return false;
      }
      return k >= 1 && isDigit(s.charAt(k - 1));
    }

    /**
     * Grouped card numbers use groups of 3 to 6 digits (4-4-4-4, 4-6-5, 4-4-4-4-3), 8-8 for 16
     * digits with a space or dash, or, for 19 digits, the 6-digit issuer number and the other 13
     * digits (6-13, as UnionPay and Chinese bank cards are printed), joined by a space or a dash:
     * {@code 622126.1234567890123} is a decimal number. A last group of one or two digits only on a
     * 14-digit Diners Club number (IIN 30, 36, 38 or 39), printed 4-4-4-2 ({@code 3056 9309 0259
     * 04}), and on a 13-digit Visa number grouped in fours ({@code 4222 2222 2222 2}): on other
     * numbers such a reading is a part of a longer one (a 22-digit USPS tracking number printed
     * 4-4-4-4-4-2 held Luhn-valid 14- and 18-digit readings ending in its last groups).
     */
    private static boolean groupShapeOk(String s, int start, int[] counts, int last, char sep) {
      if (last == 1 && counts[0] == 6 && counts[1] == 19 && (sep == ' ' || sep == '-')) {
        return true;
      }
      if (last == 1 && counts[0] == 8 && counts[1] == 16 && (sep == ' ' || sep == '-')) {
        return true; // 8-8 (45320151 12830366), as some receipts and exports print 16 digits
      }
      int prev = 0;
      for (int g = 0; g <= last; g++) {
        int len = counts[g] - prev;
        prev = counts[g];
        if (len > 6 || (len < 3 && (g < last || !shortLastGroup(s, start, counts[last])))) {
          return false; // the last group may be short: 3056 9309 0259 04, 4222 2222 2222 2
        }
      }
      return last >= 1;
    }

    /**
     * Whether a reading of {@code digits} digits at {@code start} may end in a group of one or two
     * digits: a 14-digit Diners Club number (IIN 30, 36, 38, 39) printed 4-4-4-2, or a 13-digit
     * Visa number grouped in fours by software (4-4-4-1).
     */
    private static boolean shortLastGroup(String s, int start, int digits) {
      char a = s.charAt(start);
      if (digits == 13) {
        return a == '4';
      }
      if (digits != 14 || a != '3') {
        return false;
      }
      char b = s.charAt(start + 1);
      return b == '0' || b == '6' || b == '8' || b == '9';
    }

    static boolean valid(String s, int start, int end, int digitCount) {
      char[] d = new char[digitCount];
      int k = 0;
      for (int i = start; i < end; i++) {
        char c = s.charAt(i);
        if (isDigit(c)) {
          d[k++] = c;
        }
      }
      String digits = new String(d);
      return iinOk(digits)
          && Checks.luhn(digits)
          && !productCode(s, start, digits)
          && !insideHexDigest(s, start, end);
    }

    /** Shortest hex token read as a digest: an MD5 (32 hex digits); SHA-1 has 40, SHA-256 64. */
    static final int HEX_DIGEST = 32;

    /**
     * Longest: a SHA-512 (128 hex digits). A longer hex run is not a digest, and the bound keeps
     * the look-around of every card candidate constant: unbounded, a value of cards glued by hex
     * letters ({@code 4111111111111111a} repeated) cost time quadratic in its length (a review of
     * the sixteenth session: 5 s for 256 KB).
     */
    static final int MAX_HEX_DIGEST = 128;

    /**
     * Whether {@code s[start, end)} is a digit run inside a hexadecimal digest: a hex letter right
     * before and right after it, in one token of at least {@link #HEX_DIGEST} hex digits of one
     * letter case, standing alone (no letter or digit around the token). A random SHA-256 holds a
     * Luhn-valid run of 13 or more digits with a card prefix often enough to show in logs of
     * commits and image digests (the blind check of the sixteenth session masked 2 of about 200
     * hashes). A card glued to a word ({@code card4111111111111111}) has no hex letter after it,
     * and one hidden inside a digest on purpose is an encoding, which masking does not undo.
     */
    static boolean insideHexDigest(String s, int start, int end) {
      int n = s.length();
      if (start == 0 || end >= n || !hexLetter(s.charAt(start - 1)) || !hexLetter(s.charAt(end))) {
        return false;
      }
      int l = start;
      int r = end;
      boolean lower = false;
      boolean upper = false;
      while (l > 0 && isHex(s.charAt(l - 1))) {
        l--;
        lower |= s.charAt(l) >= 'a';
        upper |= s.charAt(l) >= 'A' && s.charAt(l) <= 'F';
        if (r - l > MAX_HEX_DIGEST) {
          return false;
        }
      }
      while (r < n && isHex(s.charAt(r))) {
        lower |= s.charAt(r) >= 'a';
        upper |= s.charAt(r) >= 'A' && s.charAt(r) <= 'F';
        r++;
        if (r - l > MAX_HEX_DIGEST) {
          return false;
        }
      }
      return r - l >= HEX_DIGEST
          && !(lower && upper)
          && (l == 0 || !isAlnum(s.charAt(l - 1)))
          && (r == n || !isAlnum(s.charAt(r)));
    }

    private static boolean hexLetter(char c) {
      return isHex(c) && !isDigit(c);
    }

    /**
     * Whether 13 digits right after the word EAN, GTIN or ISBN (and a colon, dash or space) are a
     * product code with a valid EAN-13 check digit (GS1 General Specifications 7.9): one in ten
     * such codes also passes the card checks.
     */
    private static boolean productCode(String s, int start, String d) {
      if (d.length() != 13) {
        return false;
      }
      int k = start;
      while (k > 0 && start - k < 3 && " :#-".indexOf(s.charAt(k - 1)) >= 0) {
        k--;
      }
      boolean word = false;
      for (String w : new String[] {"ean", "gtin", "isbn"}) {
        int b = k - w.length();
        word |=
            b >= 0
                && s.regionMatches(true, b, w, 0, w.length())
                && (b == 0 || !Character.isLetter(s.charAt(b - 1)));
      }
      if (!word) {
        return false;
      }
      int sum = 0;
      for (int i = 0; i < 13; i++) {
        sum += (d.charAt(i) - '0') * (i % 2 == 0 ? 1 : 3);
      }
      return sum % 10 == 0;
    }

    /** Issuer identification ranges with their lengths (ISO/IEC 7812, public scheme tables). */
    static boolean iinOk(String d) {
      int len = d.length();
      if (len == 12) {
        int m = Integer.parseInt(d.substring(0, 2));
        // Maestro, the only 12-digit cards (0604: Maestro UK's old range, which the Faker library
        // still issues test numbers in)
        return m == 50 || (m >= 56 && m <= 69) || d.startsWith("0604");
      }
      int p2 = Integer.parseInt(d.substring(0, 2));
      int p3 = Integer.parseInt(d.substring(0, 3));
      int p4 = Integer.parseInt(d.substring(0, 4));
      int p6 = Integer.parseInt(d.substring(0, 6));
      char p1 = d.charAt(0);
      if (p1 == '4') {
        return len == 13 || len == 16 || len == 19; // Visa
      }
      if (p2 >= 51 && p2 <= 55) {
        return len == 16; // Mastercard
      }
      if (p4 >= 2221 && p4 <= 2720) {
        return len == 16; // Mastercard 2-series
      }
      if (p4 >= 2200 && p4 <= 2204) {
        return len >= 16 && len <= 19; // Mir
      }
      if (p2 == 34 || p2 == 37) {
        return len == 15; // American Express
      }
      if ((p3 >= 300 && p3 <= 305) || p4 == 3095 || p2 == 36 || p2 == 38 || p2 == 39) {
        return len >= 14 && len <= 19; // Diners Club
      }
      if (p4 >= 3528 && p4 <= 3589) {
        return len >= 16 && len <= 19; // JCB
      }
      if (p4 == 1800 || p4 == 2131) {
        // JCB's 15-digit ranges, which the Faker library issues one card in ten from (jcb15)
        return len == 15;
      }
      if (p4 == 6011 || (p3 >= 644 && p3 <= 649) || p2 == 65 || (p6 >= 622126 && p6 <= 622925)) {
        return len >= 16 && len <= 19; // Discover
      }
      if (p2 == 62 || p2 == 81 || p2 == 82 || p2 == 60) {
        return len >= 16 && len <= 19; // UnionPay, RuPay
      }
      if (p2 == 50 || (p2 >= 56 && p2 <= 69)) {
        return len >= 13 && len <= 19; // Maestro
      }
      if (p4 == 9792) {
        return len == 16; // Troy
      }
      return false;
    }
  }

  /**
   * Phone numbers by format: E.164 ({@code +} and 8-15 digits, NANP-validated for {@code +1}),
   * {@code 00} international prefix, NANP national ({@code (415) 555-0100}, {@code 415-555-0100},
   * {@code 415.555.0100}, {@code 1-415-555-0100}) and trunk-prefix national numbers used across
   * Europe and elsewhere ({@code 020 7946 0958}, {@code 030 12345678}, {@code 01 23 45 67 89}), and
   * three national layouts the masking red team found in data: US {@code 415/555-0132} (NANP-shaped
   * only), Brazil {@code (11) 91234-5678} and {@code (21) 3456-7890}, India {@code 098765 43210}.
   * Separators are required for national numbers: a bare run of ten digits is not a phone number
   * here, because it is far more often an identifier.
   */
  static final class Phone extends Detector {
    /** Bare national numbers after a phone word; see {@link Context}. */
    private final boolean context;

    Phone() {
      this(false);
    }

    private Phone(boolean context) {
      super("phone", 40);
      this.context = context;
    }

    /** This, {@link Context} and {@link Encoded}, gated separately. */
    @Override
    List<Detector> parts() {
      return List.of(this, new Context(), new Encoded(this));
    }

    /**
     * Numbers a phone word names ({@code tel 612345678}, {@code phone: 0612345678}, {@code Tel. 612
     * 345 678}): 8-13 digits, bare or in groups of two or more, right after {@code tel}, {@code
     * phone}, {@code mobile}, {@code fax} and their forms in other languages ({@link
     * #phoneContext}). Without the word such a number is as often an order number or an id, so the
     * part is gated by the words as keywords and by an 8-digit run, not by {@code F_PHONE}.
     */
    static final class Context extends Detector {
      private final Phone phone = new Phone(true);

      Context() {
        super("phone", 40);
      }

      @Override
      int needFlags() {
        return F_NUM8;
      }

      @Override
      int minNumericRun() {
        return 8;
      }

      @Override
      List<String> keywords() {
        // "vil" for móvil (a keyword is matched on ASCII bigrams); the verbs of calling for "call
        // me on 07700900123" ({@link #phoneContext})
        return List.of(
            "tel",
            "phone",
            "mob",
            "cell",
            "fax",
            "handy",
            "whatsapp",
            "movil",
            "vil",
            "tlf",
            "call",
            "ring",
            "text",
            "reach",
            "contact",
            "sms",
            "dial");
      }

      @Override
      void find(String s, List<Finding> out) {
        phone.find(s, out);
      }
    }

    /**
     * Numbers written URL-encoded in a query string ({@code tel=%2B1%20415%20555%200100}, {@code
     * phone=%2B14155550100}; RFC 3986 section 2.1): the escapes of printable ASCII are decoded
     * once, the phone detector reads the decoded text, and a number that had an escape in it is
     * reported at its place in the original. Gated by the encoded {@code +} ({@code %2B}).
     */
    static final class Encoded extends Detector {
      private final Phone phone;

      Encoded(Phone phone) {
        super("phone", 40);
        this.phone = phone;
      }

      @Override
      int needFlags() {
        return F_PCT;
      }

      @Override
      int minLength() {
        return 12;
      }

      @Override
      List<String> keywords() {
        return List.of("%2b");
      }

      @Override
      void find(String s, List<Finding> out) {
        int[] from = new int[s.length() + 1];
        String decoded = Email.Encoded.decode(s, from);
        List<Finding> found = new Scanner.Findings(); // capped like the outer list
        phone.find(decoded, found);
        for (Finding f : found) {
          int st = from[f.start()];
          int en = from[f.end()];
          int pct = s.indexOf('%', st); // the next '%' or none: at most once past each finding
          if (pct >= 0 && pct < en) {
            add(out, st, en);
          }
        }
      }
    }

    @Override
    int minNumericRun() {
      return 8;
    }

    /**
     * Every accepted reading has 8+ digits after {@code +} or {@code (}, starts with 0 (trunk or 00
     * prefix, 9+ digits), or is a NANP number grouped 3-3-4; see {@link Detector#F_PHONE}. Dates,
     * times, amounts and order numbers do not arm it.
     */
    @Override
    int needFlags() {
      return F_PHONE;
    }

    @Override
    void find(String s, List<Finding> out) {
      int n = s.length();
      int[] glen = new int[12];
      int[] gend = new int[12];
      char[] dg = new char[24];
      // (escape analysis keeps these small arrays off the heap once compiled)
      // The characters as one array (a vectorised copy): String.charAt checks the string's coder
      // and the index on every read, and this loop reads every character of a long note.
      char[] a = s.toCharArray();
      int i = 0;
      while (i < n) {
        char c = a[i];
        boolean plus = c == '+' && i + 1 < n && (isDigit(a[i + 1]) || a[i + 1] == '(');
        boolean paren = c == '(' && i + 1 < n && isDigit(a[i + 1]);
        // A country code in parentheses, (+44) 20 7946 0958: read as a + number
        boolean plusParen = c == '(' && i + 2 < n && a[i + 1] == '+' && isDigit(a[i + 2]);
        plus |= plusParen;
        if (!(plus || paren || isDigit(c))) {
          i++;
          continue;
        }
        // A + number (E.164) is read after a letter, comma or dot too: x+14155550123, 1,+1415…
        // After a phone word, a number glued to it is read too (tel0201234567: Context only)
        if ((!plus && leftBlocked(s, i) && !(context && gluedPhoneWord(s, i)))
            || (i > 0 && (a[i - 1] == '+' || isDigit(a[i - 1])))) {
          i++;
          while (i < n && isDigit(a[i])) {
            i++;
          }
          continue;
        }
        int j = plusParen ? i + 2 : plus ? i + 1 : i;
        int groups = 0;
        int digits = 0;
        char sep = 0;
        boolean mixed = false;
        boolean parens = false;
        boolean sawSep = false;
        boolean nanpOnly = false;
        while (j < n && groups < glen.length) {
          boolean open = plusParen && groups == 0;
          parens |= open;
          if (!open && a[j] == '(') {
            if (parens || j + 1 >= n || !isDigit(a[j + 1])) {
              break;
            }
            open = true;
            parens = true;
            j++;
          }
          int gs = j;
          while (j < n && isDigit(a[j]) && digits < dg.length) {
            dg[digits++] = a[j];
            j++;
          }
          if (j == gs) {
            break;
          }
          glen[groups] = j - gs;
          gend[groups] = j;
          groups++;
          noBreakSpace(a, j);
          if (open) {
            if (j < n && a[j] == ')') {
              j++;
              gend[groups - 1] = j;
              sawSep = true;
              noBreakSpace(a, j);
              if (j < n && a[j] == ' ' && j + 1 < n && isDigit(a[j + 1])) {
                j++;
              } else if (j < n && isDigit(a[j])) {
                // "(0)20" style
              } else if (j < n && (a[j] == '-' || a[j] == '.') && j + 1 < n && isDigit(a[j + 1])) {
                j++;
              }
              continue;
            }
            groups = 0; // unbalanced parenthesis: not a phone number
            break;
          }
          if (j + 3 < n && a[j] == ' ' && a[j + 1] == '/' && a[j + 2] == ' ' && isDigit(a[j + 3])) {
            // German 030 / 1234567: a slash with a space on each side, only after a trunk 0
            if (sep != 0 || groups != 1 || dg[0] != '0') {
              break;
            }
            sep = '/';
            sawSep = true;
            j += 3;
            continue;
          }
          if (j + 1 < n) {
            char sc = a[j];
            char nx = a[j + 1];
            if (sc == ' ' && nx == '(') {
              sawSep = true;
              j++;
              continue;
            }
            if (sc == '(' && nx == '0' && plus && groups == 1) {
              // the trunk 0 in parentheses right after the country code: +44(0)1632 960123, the
              // Faker library's en_GB and de_DE layouts (read as +44 (0)1632 960123)
              sawSep = true;
              continue;
            }
            if (sc == '/' && !plus && (sep != 0 || groups != 1 || (dg[0] != '0' && glen[0] != 3))) {
              // A slash joins a national number's groups only once, after the first group: a
              // trunk-0 area code (German 0151/2345678, 030/1234567) or a NANP area code before
              // the 3-4 rest of a NANP number (415/555-0132, checked below). Three groups joined
              // by slashes (lot 826/265/3386, 12/05/2024) are a lot, batch or date number.
              break;
            }
            if ((sc == ' ' || sc == '-' || sc == '.' || sc == '/') && isDigit(nx)) {
              if ((sep == '/' || sep == ' ')
                  && sc != sep
                  && groups == 2
                  && glen[0] == 3
                  && glen[1] == 3
                  && !parens
                  && !plus
                  && (sep == ' ' ? sc == '-' || sc == '.' : sc == '-')) {
                // US 415/555-0132, 415 555-0100, 415 555.0100 and 415 555·0100 (the middle dot
                // read as a dot): read only as a NANP number, see below
                nanpOnly = true;
              } else if (sep != 0 && sep != sc && !plus) {
                mixed = true; // national numbers use one separator; +CC numbers often mix
                break;
              }
              sep = sc;
              sawSep = true;
              j++;
              continue;
            }
          }
          break;
        }
        int end = groups > 0 ? gend[groups - 1] : i + 1;
        boolean found = false;
        // Longest valid reading first, then shorter readings at group boundaries.
        // Six or more two-digit numbers (Lottery 04 11 23 35 42 48) are a list, not read at all.
        // Four groups of four digits and more (0423-8508-0689-7870) are a card's layout: when the
        // card detector did not take it (no Luhn digit or issuer), an account or reference number,
        // never written so as a phone number, not even its first twelve digits.
        boolean list =
            (groups >= 6
                    && !plus
                    && !(dg[0] == '0' && dg[1] == '0')
                    && twoDigitGroups(glen, groups))
                || (!plus && groups >= 4 && cardLayout(glen));
        for (int g = list ? 0 : groups; g >= 1 && !found; g--) {
          int e = gend[g - 1];
          // A comma after a grouped number is a field separator (a CSV line, 612 34 56 78,154):
          // thousands are not grouped by spaces, dashes or dots before it.
          if (g == groups
              && !(g >= 2 && e < n && a[e] == ',')
              && (plus ? strongRightBlocked(s, e) : rightBlocked(s, e) && !extension(s, e, g))) {
            continue;
          }
          if (g < groups && sep == '-' && !plus && glen[g] >= 5) {
            // A dashed number goes on with a group of five or more digits: one reference (an
            // Amazon order number 029-6361095-1591063), not a phone number and what follows it;
            // an extension after a dash has at most four digits (030-12345678-12). Red team mask20.
            continue;
          }
          int d = 0;
          for (int k = 0; k < g; k++) {
            d += glen[k];
          }
          if (nanpOnly
              && g >= 3
              && !(g == 3 && d == 10 && glen[2] == 4 && nanpNational(dg, 0, s, i))) {
            continue; // a slash or space, then a dash or dot: only the NANP 3-3-4 reading
          }
          if (valid(plus, dg, d, glen, g, sawSep || plus, parens, a[i] == '(', sep, s, i)
              || (context && !plus && contextual(dg, d, glen, g, sep) && phoneContext(s, i))) {
            add(out, i, e);
            found = true;
            end = e;
          }
        }
        i = Math.max(end, i + 1);
        if (mixed && !found) {
          // A middle dot, bullet, VT or FF after the first group, then another separator
          // (1·415 555 0100, a list number or a quantity): read again from the second group, as
          // where they are no separator; they join groups only when they are the only one.
          i = dotOrControl(s.charAt(gend[0])) ? gend[0] + 1 : Math.max(i, j);
        } else if (!found && !list && groups >= 3 && glen[0] <= 2 && !plus && a[gend[0]] == ' ') {
          // A short number and a space before a national number (1 020 7946 0958: a quantity or
          // a list number): the number is read again from its second group
          i = gend[0];
        }
      }
    }

    /** Whether the first four digit groups have four digits each. */
    private static boolean cardLayout(int[] glen) {
      return glen[0] == 4 && glen[1] == 4 && glen[2] == 4 && glen[3] == 4;
    }

    /** Whether every one of {@code groups} digit groups has at most two digits. */
    private static boolean twoDigitGroups(int[] glen, int groups) {
      for (int k = 0; k < groups; k++) {
        if (glen[k] > 2) {
          return false;
        }
      }
      return true;
    }

    /**
     * A no-break or thin space after a digit group ({@code +1 415 555 0100} copied from a web page
     * or a spreadsheet, see {@link Checks#isNoBreakSpace}) read as a space: replaced in {@code a},
     * this detector's copy of the text, only where a group ends, so that other text costs one
     * comparison per group.
     */
    private static void noBreakSpace(char[] a, int j) {
      if (j < a.length && (a[j] >= '\u00a0' || a[j] == '\u000b' || a[j] == '\u000c')) {
        if (Checks.isNoBreakSpace(a[j])) {
          a[j] = ' ';
        } else if (j + 1 < a.length && isDigit(a[j + 1])) {
          char c = a[j];
          // The en dash as a dash (a word processor's), a middle dot or bullet as a dot (01·23·45
          // ·67·89, as dotted numbers are written), VT and FF as a space: see dotOrControl.
          a[j] =
              c == '\u2013'
                  ? '-'
                  : c == '\u00b7' || c == '\u2022' ? '.' : dotOrControl(c) ? ' ' : c;
        }
      }
    }

    private static boolean valid(
        boolean plus,
        char[] dg,
        int d,
        int[] glen,
        int groups,
        boolean separated,
        boolean parens,
        boolean startsParen,
        char sep,
        String s,
        int at) {
      if (plus) {
        if (d < 8 || d > 15 || dg[0] == '0') {
          return false;
        }
        if (dg[0] == '1') {
          return d == 11 && nanp(dg, 1);
        }
        if (dg[0] == '7') {
          return d == 11;
        }
        return true;
      }
      if (!separated || groups < 2) {
        return false;
      }
      if (groups == 3 && glen[0] == 3 && glen[1] == 2 && glen[2] == 4) {
        return false; // the US SSN layout, never a conventional phone grouping
      }
      if (startsParen && groups == 3 && glen[0] == 2 && glen[2] == 4 && sep == '-') {
        // Brazil (Anatel numbering plan): a two-digit area code 11-99 in parentheses, then 9 and
        // four digits (mobile) or 2-5 and three digits (fixed), a dash and four digits.
        return dg[0] >= '1'
            && dg[1] >= '1'
            && ((glen[1] == 5 && dg[2] == '9') || (glen[1] == 4 && dg[2] >= '2' && dg[2] <= '5'));
      }
      if (!plus
          && groups == 2
          && glen[0] == 6
          && glen[1] == 5
          && sep == ' '
          && dg[0] == '0'
          && dg[1] >= '6') {
        return true; // India: trunk 0, then a mobile number (6-9 first) written 5+5
      }
      if (dg[0] == '0' && dg[1] == '0') {
        return d - 2 >= 8 && d - 2 <= 15 && dg[2] != '0';
      }
      if (startsParen && glen[0] == 1 && dg[0] == '0' && groups >= 3) {
        // (0)20 7946 0958: the trunk 0 in parentheses, as British numbers are written after
        // +44 and without it; the rest as a trunk-prefix national number
        if (dg[1] == '0' || d < 10 || d > 12) {
          return false;
        }
        for (int k = 1; k < groups; k++) {
          if (glen[k] < 2 || glen[k] > 8) {
            return false;
          }
        }
        return true;
      }
      if (groups == 3 && (sep == ' ' || sep == '-')) {
        if (glen[0] == 3 && glen[1] == 4 && glen[2] == 4 && dg[0] == '1' && dg[1] >= '3') {
          return true; // China: an 11-digit mobile 13x-19x, 3-4-4
        }
        if (glen[0] == 2 && glen[1] == 5 && glen[2] == 5 && dg[0] == '9' && dg[1] == '1') {
          return dg[2] >= '6'; // India: 91, a 6-9 mobile, 5+5
        }
        if (glen[0] == 4
            && glen[1] == 3
            && glen[2] == 3
            && dg[0] == '1'
            && (dg[1] == '3' || dg[1] == '8')
            && dg[2] == '0'
            && dg[3] == '0') {
          return true; // Australia: 1300 and 1800 numbers (ACMA numbering plan) written 4-3-3
        }
      }
      if (groups == 4 && glen[0] == 3 && glen[1] == 2 && glen[2] == 2 && glen[3] == 2) {
        // Spain: nine digits written 3-2-2-2, mobiles 6 and 7, fixed lines 8 and 9
        return sep == ' ' && dg[0] >= '6';
      }
      if (groups == 4
          && glen[0] == 2
          && glen[1] == 3
          && glen[2] == 2
          && glen[3] == 2
          && sep == ' '
          && (dg[0] == '8' || dg[0] == '9')
          && dg[1] != '0') {
        // Spain: a fixed line of a province with a two-digit prefix (91 Madrid, 93 Barcelona; CNMC
        // numbering plan) written 2-3-2-2, 91 676 18 21 (red team mask20); 80x and 90x are
        // special-rate numbers written 3-3-3
        return true;
      }
      if (d == 10 && groups == 3 && glen[0] == 3 && glen[1] == 3 && glen[2] == 4 && dg[0] != '0') {
        // An Italian mobile number (3xx, AGCOM numbering plan) written with spaces, 320 163 2442,
        // whatever its next digits; else a NANP number. With a trunk 0 (Irish 087 123 4567, NZ 021
        // 123 4567): see below.
        return (sep == ' ' && dg[0] == '3' && !startsParen) || nanpNational(dg, 0, s, at);
      }
      if (groups == 5
          && glen[0] == 1
          && glen[1] == 3
          && glen[2] == 3
          && glen[3] == 2
          && glen[4] == 2
          && dg[0] == '8'
          && dg[1] >= '3'
          && dg[1] != '5'
          && dg[1] != '6'
          && dg[1] != '7') {
        // Russia and Kazakhstan: trunk 8, an area or mobile code 3xx, 4xx, 8xx or 9xx (Rossvyaz
        // numbering plan), then 3-2-2: 8 (495) 123-45-67, 8 912 345 67 89
        return true;
      }
      if (d == 11 && groups == 4 && glen[0] == 1 && dg[0] == '1' && glen[1] == 3 && glen[2] == 3) {
        return nanpNational(dg, 1, s, at) && !startsParen;
      }
      if (dg[0] == '0' && dg[1] != '0' && d >= 9 && d <= 12) {
        if (glen[0] > 5) {
          return false;
        }
        for (int k = 0; k < groups; k++) {
          if (glen[k] < 2 || glen[k] > 8) {
            return false;
          }
        }
        return true;
      }
      return false;
    }

    /**
     * A reading {@link Context} accepts after a phone word: 8-13 digits, bare or in groups of two
     * or more joined by one kind of separator, and not a date ({@code 2026-11-22}, {@code
     * 22.11.2026}: groups of 4-2-2 or 2-2-4).
     */
    private static boolean contextual(char[] dg, int d, int[] glen, int groups, char sep) {
      if (d < 8 || d > 13) {
        return false;
      }
      for (int k = 0; k < groups; k++) {
        if (glen[k] < 2) {
          return false;
        }
      }
      boolean date =
          groups == 3
              && ((glen[0] == 4 && glen[1] == 2 && glen[2] == 2)
                  || (glen[0] == 2 && glen[1] == 2 && glen[2] == 4));
      return !date && sep != '(';
    }

    /**
     * Whether an extension is glued to a grouped number ending at {@code end}: {@code x} or {@code
     * ext} (any case, perhaps with a dot) and 1-6 digits, then no letter or digit ({@code
     * 262-740-5478x567}, {@code (262)740-5478x56789}, {@code 001-262-740-5478x5678}: the formats of
     * the Faker library's en_US phone numbers, and of many CRMs). Such a letter does not make the
     * number part of a word; the extension itself is not masked.
     */
    static boolean extension(String s, int end, int groups) {
      int n = s.length();
      if (groups < 2 || end >= n) {
        return false;
      }
      int k = end;
      if ((s.charAt(k) | 0x20) == 'x') {
        k++;
      } else if (s.regionMatches(true, k, "ext", 0, 3)) {
        k += 3;
        k += k < n && s.charAt(k) == '.' ? 1 : 0;
      } else {
        return false;
      }
      int d = k;
      while (k < n && k - d < 7 && isDigit(s.charAt(k))) {
        k++;
      }
      return k > d && k - d <= 6 && (k == n || !isWord(s.charAt(k)));
    }

    /** Words that name a phone number, lower case ({@link #phoneContext}). */
    private static final java.util.Set<String> PHONE_WORDS =
        java.util.Set.of(
            "tel",
            "tele",
            "telephone",
            "telefon",
            "telefono",
            "teléfono",
            "telefone",
            "téléphone",
            "telf",
            "phone",
            "cellphone",
            "mobile",
            "mobil",
            "mob",
            "móvil",
            "movil",
            "cell",
            "fax",
            "handy",
            "whatsapp",
            "tlf");

    /** Words between a phone word and its number ({@code phone no. 612345678}). */
    private static final java.util.Set<String> NUMBER_WORDS =
        java.util.Set.of("no", "nr", "num", "number", "nummer", "número", "numero");

    /**
     * Verbs of calling, which name a phone number before a word of {@link #TO_WHOM} ({@code call me
     * on 07700900123}, {@code reach us at 020 7946 0958}, {@code text me at …}); {@code call} and
     * {@code dial} also right before it ({@code call 07700900123}), the others not ({@code reach
     * 10000000 users}).
     */
    private static final java.util.Set<String> CALL_WORDS =
        java.util.Set.of("call", "ring", "text", "reach", "contact", "sms", "dial");

    private static final java.util.Set<String> CALL_DIRECT = java.util.Set.of("call", "dial");

    /**
     * Words between a verb of calling and the number: {@code me}, {@code us}, {@code on}, {@code
     * at}.
     */
    private static final java.util.Set<String> TO_WHOM =
        java.util.Set.of("me", "us", "him", "her", "them", "on", "at", "back");

    /**
     * Whether a phone word ends right before {@code i}: separated from the number by one to four of
     * {@code " :.=#-"}, possibly with a word for number in between ({@code Tel.-Nr. 612345678}).
     */
    static boolean phoneContext(String s, int i) {
      if (gluedPhoneWord(s, i)) {
        return true;
      }
      int k = i;
      boolean toWhom = false; // a word of TO_WHOM read (then no number word)
      for (int words = 0; words < 4; words++) {
        int sepEnd = k;
        // a quote too: a JSON member, {"phone":"02079460958"}
        while (k > 0 && sepEnd - k < 4 && " :.=#-\t\"'".indexOf(s.charAt(k - 1)) >= 0) {
          k--;
        }
        if (k == sepEnd) {
          return false;
        }
        int we = k;
        while (k > 0 && we - k <= 10 && Character.isLetter(s.charAt(k - 1))) {
          k--;
        }
        if (k == we || (k > 0 && Character.isLetterOrDigit(s.charAt(k - 1)))) {
          return false;
        }
        if (!toWhom && oneOf(PHONE_WORDS, s, k, we)) {
          return true;
        }
        if (oneOf(CALL_WORDS, s, k, we)) {
          return toWhom || (words == 0 && oneOf(CALL_DIRECT, s, k, we));
        }
        if (oneOf(TO_WHOM, s, k, we)) {
          toWhom = true;
        } else if (toWhom || words >= 2 || !oneOf(NUMBER_WORDS, s, k, we)) {
          return false;
        }
      }
      return false;
    }

    /**
     * Whether a phone word is glued to the number at {@code i} ({@code tel0201234567}): the letters
     * right before it, not preceded by a letter or digit, are one.
     */
    static boolean gluedPhoneWord(String s, int i) {
      int k = i;
      while (k > 0 && i - k <= 10 && Character.isLetter(s.charAt(k - 1))) {
        k--;
      }
      if (k == i || i - k > 10 || (k > 0 && Character.isLetterOrDigit(s.charAt(k - 1)))) {
        return false;
      }
      return oneOf(PHONE_WORDS, s, k, i);
    }

    /**
     * Whether {@code s[from, to)} is one of {@code words}, ignoring case, without a substring or a
     * lower-cased copy: this runs for every digit run after letters in a value where the phone
     * context part is armed.
     */
    private static boolean oneOf(java.util.Set<String> words, String s, int from, int to) {
      int len = to - from;
      for (String w : words) {
        if (w.length() == len && s.regionMatches(true, from, w, 0, len)) {
          return true;
        }
      }
      return false;
    }

    /**
     * North American Numbering Plan: the area code starts with 2-9. After {@code +1} only the area
     * code is checked (the country code says the number is one); national readings also check the
     * exchange ({@link #nanpNational}).
     */
    private static boolean nanp(char[] dg, int off) {
      return dg[off] >= '2';
    }

    /**
     * A NANP number read without {@code +1} (the number at {@code at} in {@code s}): the area code
     * and the exchange both start with 2-9, as every assigned number's do (NANP numbering plan,
     * NXX-NXX-XXXX; the fictional {@code 555} exchange too). A 3-3-4 number whose exchange starts
     * with 0 or 1 ({@code ref 929-091-0884}, {@code lot 212-035-7162}) is a reference, lot or part
     * number, not a phone number, unless a phone word names it ({@code phone: 212-035-7162}, as
     * after {@code +1}): a number of another plan, or a mistyped one, is still a person's number
     * there. The phone word is looked for only then, so other numbers do not pay for it.
     */
    private static boolean nanpNational(char[] dg, int off, String s, int at) {
      return nanp(dg, off) && (dg[off + 3] >= '2' || phoneContext(s, at));
    }
  }

  /**
   * UK National Insurance numbers, {@code AB 12 34 56 C} or {@code AB123456C} (HMRC National
   * Insurance Manual NIM39110): two prefix letters, six digits in pairs, a suffix A-D. The first
   * letter is not D, F, I, Q, U or V, the second not D, F, I, O, Q, U or V, and BG, GB, KN, NK, NT,
   * TN and ZZ are never allocated; QQ, HMRC's specimen prefix, is masked too (test data copied from
   * forms uses it). Read only where the value names it ({@code NI}, {@code NINO}, {@code national
   * insurance}): the compact form is as often a part or an order code, and a gate on six digits
   * alone would arm on every timestamp.
   */
  static final class Nino extends Detector {
    Nino() {
      super("nino", 45);
    }

    private static final List<String> WORDS =
        List.of("nino", "insurance", "ni ", "ni:", "ni=", "ni#");

    @Override
    int minNumericRun() {
      return 6;
    }

    @Override
    int minLength() {
      return 12; // a word and the number
    }

    @Override
    List<String> keywords() {
      return WORDS;
    }

    @Override
    void find(String s, List<Finding> out) {
      if (!named(s)) {
        return; // the keywords, checked here too so that the ungated scan agrees with the gates
      }
      int n = s.length();
      for (int i = 0; i + 9 <= n; i++) {
        if (!prefix(s.charAt(i), s.charAt(i + 1)) || (i > 0 && isAlnum(s.charAt(i - 1)))) {
          continue;
        }
        int e = match(s, i + 2, false);
        e = e < 0 ? match(s, i + 2, true) : e;
        if (e > 0 && (e == n || !isAlnum(s.charAt(e)))) {
          add(out, i, e);
          i = e;
        }
      }
    }

    /**
     * {@code nino} and {@code insurance} in any case; {@code NI} (followed by a space, {@code :},
     * {@code =} or {@code #}) only in capitals and as a word of its own: in lower case, or at the
     * end of a longer word ({@code Giovanni }, {@code mini:}, {@code Bellini=}), it names nothing.
     */
    static boolean named(String s) {
      if (Checks.containsIgnoreCase(s, "nino") || Checks.containsIgnoreCase(s, "insurance")) {
        return true;
      }
      for (int i = s.indexOf("NI"); i >= 0; i = s.indexOf("NI", i + 1)) {
        if (i + 2 < s.length()
            && " :=#".indexOf(s.charAt(i + 2)) >= 0
            && (i == 0 || !isWord(s.charAt(i - 1)))) {
          return true;
        }
      }
      return false;
    }

    /** The end of {@code 123456C} ({@code spaced}: {@code " 12 34 56 C"}) from {@code k}, or -1. */
    private static int match(String s, int k, boolean spaced) {
      int n = s.length();
      for (int pair = 0; pair < 3; pair++) {
        if (spaced) {
          if (k >= n || s.charAt(k) != ' ') {
            return -1;
          }
          k++;
        }
        if (k + 2 > n || !isDigit(s.charAt(k)) || !isDigit(s.charAt(k + 1))) {
          return -1;
        }
        k += 2;
      }
      if (spaced && k < n && s.charAt(k) == ' ') {
        k++;
      }
      return k < n && s.charAt(k) >= 'A' && s.charAt(k) <= 'D' ? k + 1 : -1;
    }

    private static boolean prefix(char a, char b) {
      if (a == 'Q' && b == 'Q') {
        return true;
      }
      if (a < 'A' || a > 'Z' || b < 'A' || b > 'Z' || "DFIQUV".indexOf(a) >= 0) {
        return false;
      }
      if ("DFIOQUV".indexOf(b) >= 0) {
        return false;
      }
      int p = a << 8 | b;
      return p != ('B' << 8 | 'G')
          && p != ('G' << 8 | 'B')
          && p != ('K' << 8 | 'N')
          && p != ('N' << 8 | 'K')
          && p != ('N' << 8 | 'T')
          && p != ('T' << 8 | 'N')
          && p != ('Z' << 8 | 'Z');
    }
  }

  /**
   * A card's security code (CVV, CVV2, CVC, CVC2, "security code"; PCI DSS forbids storing it after
   * authorisation, so one seen in a result or a log is a leak): 3 or 4 digits after the word, a
   * {@code :} or {@code =} and optional quotes ({@code cvv: 123}, {@code "cvc":"1234"}, {@code
   * CVV2=123}, {@code security code: 123}); after {@code CVV}, {@code CVC} (with or without the 2)
   * and a space, {@code #} or {@code no.} too ({@link Spaced}). Not {@code CSC} (a company's and a
   * course's name; its letters are in most sentences). Not a number that runs on into more digits,
   * a decimal or a date.
   */
  static final class Cvv extends Detector {
    private static final java.util.regex.Pattern CVV =
        java.util.regex.Pattern.compile(
            "(?i)(?<![A-Za-z0-9_])(?:cvv2?|cvc2?|(?:card[ _-]?)?security[ _-]?code)"
                + "[\"']?[ \t]{0,3}[:=][ \t]{0,3}[\"']?([0-9]{3,4})(?![0-9]|[.,/:-][0-9])");

    Cvv() {
      super("cvv", 50);
    }

    /** This, {@link Spaced} and {@link Worded}, gated separately. */
    @Override
    List<Detector> parts() {
      return List.of(this, new Spaced(), new Worded());
    }

    /**
     * The code after {@code CVV}, {@code CVV2}, {@code CVC} or {@code CVC2} and a space, {@code #}
     * or {@code no.} without {@code :} or {@code =} ({@code CVV 737}, {@code cvc 123}, {@code CVV2
     * 4821}, {@code CVV# 737}, {@code CVV no. 737}): the digits right after the word, so that prose
     * with the word and a number later ({@code cvv codes 2024 policy}) is not read, and not a year
     * followed by more words ({@code CVC 2024 conference}: a 4-digit code from 1900 to 2099 before
     * a word is not read; at a line's end or before punctuation it is). Not after {@code security
     * code} (a door's or a login's code as often as a card's: with {@code :} or {@code =} only).
     */
    static final class Spaced extends Detector {
      private static final java.util.regex.Pattern SPACED =
          java.util.regex.Pattern.compile(
              "(?i)(?<![A-Za-z0-9_])cv[vc]2?(?:"
                  + "[ \\t\\u00a0\\u202f\\u2009]{0,3}#|[ \\t\\u00a0\\u202f\\u2009]{1,3}(?:no\\.?|nr\\.?|#)?)"
                  + "[ \\t\\u00a0\\u202f\\u2009]{0,3}"
                  + "([0-9]{3,4})(?![0-9]|[.,/:-][0-9])");

      Spaced() {
        super("cvv", 50);
      }

      @Override
      int minNumericRun() {
        return 3;
      }

      @Override
      int minLength() {
        return 7; // "cvv 123", "cvv#123"
      }

      @Override
      List<String> keywords() {
        return List.of("cvv", "cvc");
      }

      /**
       * Every reading has {@code cv}, then {@code v} or {@code c}, an optional {@code 2}, and a
       * space, a tab or {@code #}: sentences with the letters c and v and a number ("Refund of
       * 12.34 EUR approved… call") fail it before the keyword search.
       */
      @Override
      boolean hasAsciiGate() {
        return true;
      }

      /**
       * {@link Detector#mayFindAscii}'s loop with this part's test in it: called through the one
       * shared loop, the per-byte call of {@link #gateAt} had three receivers (this, the colon part
       * and the password syntax) and was no longer inlined for any of them.
       */
      @Override
      boolean mayFindAscii(byte[] b, int off, int len) {
        int end = off + len;
        for (int i = off; i < end; i++) {
          int c = b[i];
          if ((c < 0x20 ? c != '\t' && c != '\n' : c >= 0x7f) || spacedAt(c, b, i, end)) {
            return true;
          }
        }
        return false;
      }

      private static boolean spacedAt(int c, byte[] b, int i, int end) {
        if ((c | 0x20) != 'c' || i + 3 >= end || (b[i + 1] | 0x20) != 'v') {
          return false;
        }
        int w = b[i + 2] | 0x20;
        if (w != 'v' && w != 'c') {
          return false;
        }
        int j = b[i + 3] == '2' ? i + 4 : i + 3;
        return j < end && (b[j] == ' ' || b[j] == '\t' || b[j] == '#');
      }

      @Override
      void find(String s, List<Finding> out) {
        java.util.regex.Matcher m = SPACED.matcher(s);
        while (m.find()) {
          if (!yearBeforeWord(s, m.start(1), m.end(1))) {
            add(out, m.start(1), m.end(1));
          }
        }
      }

      /** 4 digits from 1900 to 2099, then spaces or tabs and a letter: a year in a sentence. */
      static boolean yearBeforeWord(String s, int from, int to) {
        if (to - from != 4 || !(s.startsWith("19", from) || s.startsWith("20", from))) {
          return false;
        }
        int j = to;
        while (j < s.length() && (s.charAt(j) == ' ' || s.charAt(j) == '\t')) {
          j++;
        }
        return j > to && j < s.length() && Character.isLetter(s.charAt(j));
      }
    }

    /**
     * The code after the longer names of a card security code, in English and the languages of the
     * larger card markets, and a space (or {@code :}, {@code =}, {@code #}, {@code no.}): {@code
     * security code 1234}, {@code card verification value 123} (also {@code … code}, {@code …
     * number}, {@code validation}), {@code CVV code 123}, {@code CVC number: 123}, German {@code
     * Sicherheitscode 123} and {@code Kartenprüfnummer 123}, French {@code code de sécurité 123}
     * (with or without accents; also {@code code de sécurité : 123}, the French space before a
     * colon) and {@code cryptogramme visuel 123}, Spanish {@code código de seguridad 123}, Italian
     * {@code codice di sicurezza 123}; in any case. Since the eighteenth session: before it {@code
     * security code} was read only with {@code :} or {@code =}, as a door's or a login's code is
     * written the same way; such a code is a secret too, so masking it costs nothing a reader
     * needs. As in {@link Spaced}, only the 3 or 4 digits right after the words, not a year before
     * a word, nor digits that run on into a letter, more digits, a decimal or a date.
     *
     * <p>{@code CID} (American Express prints its 4-digit code as the CID) also names a customer, a
     * caller, a connection or a content id ({@code CID 1234} in a CRM or a log): it is read only
     * with exactly 4 digits and in a value that names a card ({@code card}, {@code amex}, {@code
     * american express}). {@code code 1234} alone (a product, discount, error or area code) is not
     * read.
     */
    static final class Worded extends Detector {
      private static final String SEP = "[ \\t\\u00a0\\u202f\\u2009]";

      private static final java.util.regex.Pattern WORDED =
          java.util.regex.Pattern.compile(
              "(?iu)(?<![\\p{L}0-9_])(?:"
                  + "(?:card[ _-]?)?security[ _-]?code"
                  + "|card[ _-]?(?:verification|validation)[ _-]?(?:value|code|number)"
                  + "|cv[vc]2?[ _-]?(?:code|number|nummer)"
                  + "|sicherheits[ _-]?code|kartenpr(?:\u00fc|ue)f(?:nummer|ziffer)"
                  + "|code[ _-]de[ _-]s[e\u00e9]curit[e\u00e9]|cryptogramme(?:[ _-]visuel)?"
                  + "|c[o\u00f3]digo[ _-]de[ _-]seguridad|codice[ _-]di[ _-]sicurezza"
                  + "|(cid))("
                  + SEP
                  + "{1,3}(?:(?:no\\.?|nr\\.?|#|[:=])"
                  + SEP
                  + "{0,3})?|"
                  + SEP
                  + "{0,3}[:=#]"
                  + SEP
                  + "{0,3})[\"']?([0-9]{3,4})(?![0-9\\p{L}_]|[.,/:-][0-9])");

      Worded() {
        super("cvv", 50);
      }

      @Override
      int minNumericRun() {
        return 3;
      }

      @Override
      int minLength() {
        return 8; // "CID 1234"
      }

      /**
       * A part of every name above (lower case; {@code curit} is in {@code security} and {@code
       * sécurité}, {@code kartenpr} in both spellings of {@code Kartenprüfnummer}).
       */
      @Override
      List<String> keywords() {
        return List.of(
            "curit",
            "sicherheit",
            "verification",
            "validation",
            "cvv",
            "cvc",
            "kartenpr",
            "cryptogram",
            "segurid",
            "sicurezz",
            "cid");
      }

      /**
       * Every reading ends in 3 or 4 digits that follow the name's last letter ({@code e}, {@code
       * r}, {@code d}, {@code a}, {@code l}, or the {@code o} of {@code no.}) and at least one of
       * space, tab, {@code : = # .} and a quote: sentences with the names' letters and a number
       * ("Order 55 shipped to 221B Baker Street") fail it before the keyword search.
       */
      @Override
      boolean hasAsciiGate() {
        return true;
      }

      @Override
      boolean mayFindAscii(byte[] b, int off, int len) {
        // Scanner.digitRuns reads this gate too (CODE_AFTER_NAME), so a value that fails it does
        // not arm this part; this loop is the gate's reference (TriageTest)
        int end = off + len;
        for (int i = off; i < end; i++) {
          int c = b[i];
          if (c < 0x20 ? c != '\t' && c != '\n' : c >= 0x7f) {
            return true; // a byte it cannot judge: non-ASCII (é, a no-break space) or a control
          }
          if (c >= '0' && c <= '9' && (i == off || b[i - 1] < '0' || b[i - 1] > '9')) {
            int k = i;
            while (k < end && b[k] >= '0' && b[k] <= '9') {
              k++;
            }
            if ((k - i == 3 || k - i == 4) && afterName(b, off, i)) {
              return true;
            }
            i = k - 1;
          }
        }
        return false;
      }

      /**
       * The bytes before the digits at {@code i}: separators, then the last three letters of a name
       * ({@link #ENDINGS}), or {@code no} or {@code nr} as a word (before the digits with or
       * without a separator).
       */
      static boolean afterName(byte[] b, int off, int i) {
        int j = i - 1;
        while (j >= off && i - j <= 12 && isSeparator(b[j])) {
          j--;
        }
        if (j - 1 < off) {
          return false;
        }
        int two = (b[j - 1] | 0x20) << 8 | (b[j] | 0x20);
        if ((two == ('n' << 8 | 'o') || two == ('n' << 8 | 'r'))
            && (j - 2 < off || !isAsciiLetter((char) b[j - 2]))) {
          // "no."/"nr" only after a name, as the expression reads it ("security code no. 123"):
          // alone it is in many sentences ("at no. 123")
          int k = j - 2;
          while (k >= off && j - k <= 5 && isSeparator(b[k])) {
            k--;
          }
          return k < j - 2 && ending(b, off, k);
        }
        return j != i - 1 && ending(b, off, j);
      }

      /** Whether the last three letters of a name ({@link #ENDINGS}) end at {@code b[j]}. */
      private static boolean ending(byte[] b, int off, int j) {
        if (j - 2 < off) {
          return false;
        }
        int three = (b[j - 2] | 0x20) << 16 | (b[j - 1] | 0x20) << 8 | (b[j] | 0x20);
        for (int e : ENDINGS) {
          if (e == three) {
            return true;
          }
        }
        return false;
      }

      /**
       * The last three letters of each name, lower case: c-ode, val-ue, num-ber, num-mer, zif-fer,
       * cid, segurida-d, sicure-zza, vis-uel, cryptogra-mme, securit-e (an accented é is not
       * judged).
       */
      private static final int[] ENDINGS = endings("ode lue ber mer fer cid dad zza uel mme ite");

      private static int[] endings(String words) {
        String[] w = words.split(" ");
        int[] out = new int[w.length];
        for (int k = 0; k < w.length; k++) {
          out[k] = w[k].charAt(0) << 16 | w[k].charAt(1) << 8 | w[k].charAt(2);
        }
        return out;
      }

      private static boolean isSeparator(int c) {
        return c == ' ' || c == '\t' || c == ':' || c == '=' || c == '#' || c == '.' || c == '"'
            || c == '\'';
      }

      @Override
      void find(String s, List<Finding> out) {
        java.util.regex.Matcher m = WORDED.matcher(s);
        int card = -1; // namesACard(s), looked up once per value: per CID it made a value quadratic
        while (m.find()) {
          int from = m.start(3);
          int to = m.end(3);
          String sep = m.group(2);
          boolean assigned = sep.indexOf(':') >= 0 || sep.indexOf('=') >= 0;
          if (m.start(1) >= 0 && to - from == 4 && card < 0) {
            card = namesACard(s) ? 1 : 0;
          }
          if (m.start(1) >= 0 && (to - from != 4 || card != 1)) {
            continue; // CID: a customer's, a caller's or a connection's id as often
          }
          if (!assigned && Spaced.yearBeforeWord(s, from, to)) {
            continue;
          }
          add(out, from, to);
        }
      }

      /** Whether the value names a card, for {@code CID}. */
      static boolean namesACard(String s) {
        String l = s.toLowerCase(Locale.ROOT);
        return l.contains("card") || l.contains("amex") || l.contains("american express");
      }
    }

    /**
     * The word's letters ({@code c}, {@code v}) and three digits are in many sentences ("Delivery
     * window 10:00-12:00, ring twice."): the {@code :} or {@code =} every reading has keeps free
     * text without them from the keyword search.
     */
    @Override
    int needFlags() {
      return F_COLON | F_EQ;
    }

    @Override
    int minNumericRun() {
      return 3;
    }

    @Override
    int minLength() {
      return 6; // "cvv123"
    }

    @Override
    List<String> keywords() {
      // every reading has "cvv", "cvc" or "security": few keywords, so that a sentence with their
      // letters is searched for them in a pass each (Scanner#keywordsPresentUtf8)
      return List.of("cv", "security");
    }

    /**
     * Every reading has a {@code :} or {@code =}, at most three spaces or tabs, an optional quote
     * and then exactly 3 or 4 digits: timestamps ({@code 10:02:36}), times in sentences ({@code
     * 10:00-12:00}) and labels ({@code message: Happy}) fail it before the keyword search.
     */
    @Override
    boolean hasAsciiGate() {
      return true;
    }

    @Override
    boolean gateAt(int c, byte[] b, int i, int end) {
      if (c != ':' && c != '=') {
        return false;
      }
      int j = i + 1;
      for (int sp = 0; sp < 3 && j < end && (b[j] == ' ' || b[j] == '\t'); sp++) {
        j++;
      }
      if (j < end && (b[j] == '"' || b[j] == '\'')) {
        j++;
      }
      int digits = 0;
      while (j + digits < end && b[j + digits] >= '0' && b[j + digits] <= '9') {
        digits++;
      }
      return digits == 3 || digits == 4;
    }

    @Override
    void find(String s, List<Finding> out) {
      java.util.regex.Matcher m = CVV.matcher(s);
      while (m.find()) {
        add(out, m.start(1), m.end(1));
      }
    }
  }

  /**
   * US social security numbers written {@code 123-45-6789} or {@code 123 45 6789}; a bare
   * nine-digit number, or one grouped 3-2-4 by dots, en dashes or space-dash-space ({@code SSN
   * 536.22.1234}, {@code ssn 536–22–1234}, {@code SSN: 536 - 22 - 1234}), only right after the
   * words SSN or social security. Area 000, 666 and 900-999, group 00 and serial 0000 are never
   * issued and are rejected.
   */
  static final class Ssn extends Detector {
    Ssn() {
      super("ssn", 90);
    }

    /** Both accepted forms (3-2-4 with one separator, nine plain digits) set {@code F_SSN}. */
    @Override
    int needFlags() {
      return F_SSN;
    }

    @Override
    int minNumericRun() {
      return 9;
    }

    @Override
    void find(String s, List<Finding> out) {
      int n = s.length();
      for (int i = 0; i + 9 <= n; i++) {
        if (!isDigit(s.charAt(i))) {
          continue;
        }
        if (strongLeftBlocked(s, i, true)) {
          while (i + 1 < n && isDigit(s.charAt(i + 1))) {
            i++;
          }
          continue;
        }
        int end = -1;
        if (i + 11 <= n) {
          char a = s.charAt(i + 3);
          char b = s.charAt(i + 6);
          if ((a == '-' || a == ' ' || dotOrControl(a))
              && a == b
              && digits(s, i, 3)
              && digits(s, i + 4, 2)
              && digits(s, i + 7, 4)) {
            end = i + 11;
          }
        }
        if (end < 0 && digits(s, i, 9) && !strongLeftBlocked(s, i, false) && ssnContext(s, i)) {
          end = i + 9;
        }
        if (end < 0 && digits(s, i, 3)) {
          end = contextSeparated(s, i);
        }
        if (end >= 0 && !strongRightBlocked(s, end)) {
          String d = digitsOf(s, i, end);
          if (validSsn(d)) {
            add(out, i, end);
            i = end;
            continue;
          }
        }
        while (i + 1 < n && isDigit(s.charAt(i + 1))) {
          i++;
        }
      }
    }

    /**
     * The end of {@code 536.22.1234}, {@code 536/22/1234} or {@code 536 - 22 - 1234} at {@code i}
     * (the same separator twice), or -1: layouts of forms and exports that are also those of dotted
     * numbers and ranges, so read only right after the words SSN or social security, as a bare
     * nine-digit number is.
     */
    private static int contextSeparated(String s, int i) {
      int a = ssnSeparator(s, i + 3);
      if (a == 0 || !digits(s, i + 3 + a, 2)) {
        return -1;
      }
      int j = i + 5 + a;
      int b = ssnSeparator(s, j);
      if (b != a || !s.regionMatches(i + 3, s, j, a) || !digits(s, j + b, 4) || !ssnContext(s, i)) {
        return -1;
      }
      return j + b + 4;
    }

    /**
     * The length of a dot, a slash ({@code 536/22/1234}, as some forms print it), an en dash
     * (U+2013, which word processors put for a typed dash) or a dash or en dash with a space on
     * each side at {@code j} (0 when there is none).
     */
    private static int ssnSeparator(String s, int j) {
      if (j < s.length() && (s.charAt(j) == '.' || s.charAt(j) == '/' || s.charAt(j) == '\u2013')) {
        return 1;
      }
      return j + 3 <= s.length()
              && s.charAt(j) == ' '
              && (s.charAt(j + 1) == '-' || s.charAt(j + 1) == '\u2013')
              && s.charAt(j + 2) == ' '
          ? 3
          : 0;
    }

    static boolean validSsn(String d) {
      int area = Integer.parseInt(d.substring(0, 3));
      int group = Integer.parseInt(d.substring(3, 5));
      int serial = Integer.parseInt(d.substring(5, 9));
      return area != 0 && area != 666 && area < 900 && group != 0 && serial != 0;
    }

    private static boolean ssnContext(String s, int i) {
      String before = s.substring(Math.max(0, i - 24), i).toLowerCase(Locale.ROOT);
      return before.contains("ssn") || before.contains("social security");
    }
  }

  static boolean digits(String s, int from, int count) {
    if (from + count > s.length()) {
      return false;
    }
    for (int k = from; k < from + count; k++) {
      if (!isDigit(s.charAt(k))) {
        return false;
      }
    }
    return true;
  }

  static String digitsOf(String s, int from, int to) {
    StringBuilder b = new StringBuilder(to - from);
    for (int k = from; k < to; k++) {
      if (isDigit(s.charAt(k))) {
        b.append(s.charAt(k));
      }
    }
    return b.toString();
  }

  /**
   * IBANs in electronic ({@code DE89370400440532013000}) or print form (groups of four separated by
   * single spaces, or by single dashes as in {@code DE82-3704-0044-0532-0139-99}, one kind per
   * IBAN): the country's registered length and the ISO 7064 mod-97 check must match.
   */
  static final class Iban extends Detector {
    Iban() {
      super("iban", 85);
    }

    @Override
    int needFlags() {
      return F_IBAN;
    }

    /** The shortest registered IBAN (Norway) has 15 characters; {@link #find} needs as many. */
    @Override
    int minLength() {
      return 15;
    }

    @Override
    void find(String s, List<Finding> out) {
      int n = s.length();
      StringBuilder b = new StringBuilder(34);
      for (int i = 0; i + 15 <= n; i++) {
        // Written in either case: an IBAN typed into a form is often stored as typed.
        if (!(isAsciiLetter(s.charAt(i))
            && isAsciiLetter(s.charAt(i + 1))
            && isDigit(s.charAt(i + 2))
            && isDigit(s.charAt(i + 3)))) {
          continue;
        }
        // A letter glued on either side (xDE89370400440532013000x) does not hide an IBAN in
        // capitals, whose length and mod-97 check are strong enough; one in lower case glued to a
        // letter is as likely a piece of a hex digest or a token.
        boolean upper = Checks.isUpper(s.charAt(i)) && Checks.isUpper(s.charAt(i + 1));
        if (i > 0 && isWord(s.charAt(i - 1)) && (!upper || isDigit(s.charAt(i - 1)))) {
          continue;
        }
        int len = Checks.ibanLength(s.charAt(i), s.charAt(i + 1));
        if (len == 0) {
          continue;
        }
        b.setLength(0);
        int j = i;
        char sep = 0;
        while (j < n && b.length() < len) {
          char c = s.charAt(j);
          if (Checks.isDigit(c) || isAsciiLetter(c)) {
            b.append(c);
            j++;
          } else if ((c == ' ' || c == '-' || c == '_')
              && (sep == 0 || sep == c)
              && Checks.isUpper(s.charAt(i))
              && Checks.isUpper(s.charAt(i + 1))
              && j + 1 < n
              && isAlnum(s.charAt(j + 1))
              && b.length() % 4 == 0) {
            sep = c;
            j++;
          } else {
            break;
          }
        }
        if (b.length() == len
            && (j == n || !(upper ? isDigit(s.charAt(j)) : isAlnum(s.charAt(j))))
            && Checks.mod97(b)) {
          add(out, i, j);
          i = j;
        }
      }
    }
  }

  /**
   * IPv4 dotted quads (each octet 0-255, no leading zeros) and IPv6 in full, compressed and
   * IPv4-suffixed forms. A dotted quad preceded by {@code v} or the word version, or followed by
   * {@code -} or a letter ({@code 1.2.3.4-beta}), is treated as a version string; a bare {@code
   * 1.2.3.4} is syntactically an address and is masked.
   */
  static final class Ip extends Detector {
    Ip() {
      super("ip", 60);
    }

    @Override
    int needFlags() {
      return F_DOT3 | F_V6;
    }

    @Override
    void find(String s, List<Finding> out) {
      if (s.indexOf('.') >= 0) {
        findV4(s, out);
      }
      if (s.indexOf(':') >= 0) {
        findV6(s, out);
      }
    }

    private void findV4(String s, List<Finding> out) {
      int n = s.length();
      for (int i = 0; i < n; i++) {
        if (!isDigit(s.charAt(i))) {
          continue;
        }
        int end = parseV4(s, i);
        if (end > 0 && !versionContext(s, i, end) && !reservedNetwork(s, i, end)) {
          add(out, i, end);
          i = end;
        } else {
          while (i + 1 < n && (isDigit(s.charAt(i + 1)) || s.charAt(i + 1) == '.')) {
            i++;
          }
        }
      }
    }

    /**
     * Whether the dotted quad {@code s[i, end)} is the network address of a CIDR prefix ({@code /8}
     * to {@code /31}, all host bits zero) inside a range that is not assigned to anyone: private
     * (RFC 1918), shared (RFC 6598), loopback, link-local (RFC 3927) or documentation (RFC 5737).
     * {@code 192.168.0.0/16} names a block in every home router's configuration, not a host or a
     * person; a host address ({@code 192.168.1.17/24}, {@code 192.168.1.17}) and a public network
     * are still masked.
     */
    static boolean reservedNetwork(String s, int i, int end) {
      int n = s.length();
      if (end + 1 >= n || s.charAt(end) != '/' || !isDigit(s.charAt(end + 1))) {
        return false;
      }
      int k = end + 1;
      int prefix = 0;
      while (k < n && isDigit(s.charAt(k)) && k - end <= 2) {
        prefix = prefix * 10 + (s.charAt(k) - '0');
        k++;
      }
      if ((k < n && isAlnum(s.charAt(k))) || prefix < 8 || prefix > 31) {
        return false;
      }
      long a = 0;
      for (String part : s.substring(i, end).split("\\.")) {
        a = (a << 8) | Integer.parseInt(part);
      }
      if ((a & ((1L << (32 - prefix)) - 1)) != 0) {
        return false;
      }
      return within(a, prefix, 10L << 24, 8)
          || within(a, prefix, (172L << 24) | (16 << 16), 12)
          || within(a, prefix, (192L << 24) | (168 << 16), 16)
          || within(a, prefix, (100L << 24) | (64 << 16), 10)
          || within(a, prefix, 127L << 24, 8)
          || within(a, prefix, (169L << 24) | (254 << 16), 16)
          || within(a, prefix, (192L << 24) | (2 << 8), 24)
          || within(a, prefix, (198L << 24) | (51 << 16) | (100 << 8), 24)
          || within(a, prefix, (203L << 24) | (113 << 8), 24);
    }

    /** Whether the network {@code a/prefix} lies inside {@code net/bits}. */
    private static boolean within(long a, int prefix, long net, int bits) {
      return prefix >= bits && (a >>> (32 - bits)) == (net >>> (32 - bits));
    }

    /** End of a dotted quad starting at {@code i}, or -1. */
    static int parseV4(String s, int i) {
      int n = s.length();
      if (i > 0) {
        char p = s.charAt(i - 1);
        // After a dash only when a number precedes it (an id joined by a dash: row-17-8.8.8.8);
        // release-1.2.3.4 is a version.
        if (isWord(p)
            || p == '.'
            || p == '+'
            || (p == '-' && !(i >= 2 && isDigit(s.charAt(i - 2))))) {
          return -1;
        }
      }
      int j = i;
      for (int part = 0; part < 4; part++) {
        int st = j;
        int v = 0;
        while (j < n && isDigit(s.charAt(j)) && j - st < 4) {
          v = v * 10 + (s.charAt(j) - '0');
          j++;
        }
        int len = j - st;
        if (len == 0 || len > 3 || v > 255 || (len > 1 && s.charAt(st) == '0')) {
          return -1;
        }
        if (part < 3) {
          if (j >= n || s.charAt(j) != '.') {
            return -1;
          }
          j++;
        }
      }
      if (j < n) {
        char c = s.charAt(j);
        if (isWord(c) || c == '-' || c == '+') {
          return -1;
        }
        if (c == '.' && j + 1 < n && isAlnum(s.charAt(j + 1))) {
          return -1;
        }
      }
      return j;
    }

    private static boolean versionContext(String s, int i, int end) {
      if (i > 0 && (s.charAt(i - 1) == 'v' || s.charAt(i - 1) == 'V')) {
        return true;
      }
      int k = i - 1;
      while (k >= 0 && s.charAt(k) == ' ') {
        k--;
      }
      if (k >= 0 && (s.charAt(k) == ':' || s.charAt(k) == '=')) {
        // "version: 1.2.3.4", "build=10.0.19045.2965": the word before the colon or equals sign
        k--;
        while (k >= 0 && s.charAt(k) == ' ') {
          k--;
        }
      }
      int we = k + 1;
      while (k >= 0 && Checks.isAsciiLetter(s.charAt(k))) {
        k--;
      }
      String word = s.substring(k + 1, we).toLowerCase(Locale.ROOT);
      return VERSION_WORDS.contains(word);
    }

    /**
     * Words after which a dotted quad is a version number ({@code build 10.0.19045}, {@code
     * firmware 4.3.2.1}, {@code OID 1.3.6.1}), lower case.
     */
    private static final java.util.Set<String> VERSION_WORDS =
        java.util.Set.of(
            "version",
            "ver",
            "release",
            "build",
            "firmware",
            "fw",
            "revision",
            "rev",
            "patch",
            "bios",
            "kernel",
            "driver",
            "sdk",
            "oid",
            "upgrade",
            "downgrade");

    private void findV6(String s, List<Finding> out) {
      int n = s.length();
      int i = 0;
      while (i < n) {
        char c = s.charAt(i);
        if (!(isHex(c) || c == ':')) {
          i++;
          continue;
        }
        int j = i;
        int colons = 0;
        boolean compressed = false;
        while (j < n && (isHex(s.charAt(j)) || s.charAt(j) == ':' || s.charAt(j) == '.')) {
          if (s.charAt(j) == ':') {
            colons++;
            compressed |= j > i && s.charAt(j - 1) == ':';
          }
          j++;
        }
        int e = j;
        while (e > i && (s.charAt(e - 1) == '.')) {
          e--;
        }
        if (colons < 7 && !compressed) {
          i = j + 1;
          continue; // neither full nor compressed form: times, MAC addresses
        }
        boolean boundaryOk =
            (i == 0 || !(isWord(s.charAt(i - 1)))) && (j == n || !(isWord(s.charAt(j))));
        if (boundaryOk && colons >= 2 && !slice(s, i, e) && validV6(s.substring(i, e))) {
          add(out, i, e);
        }
        i = j + 1;
      }
    }

    /**
     * Compressed forms that are not addresses: hex words without a digit ({@code dead::beef},
     * {@code cafe::babe}) and a Python slice inside brackets that follow a name or a closing
     * bracket ({@code x[::2]}, {@code a[1::2]}); an address in brackets follows a {@code /},
     * {@code @}, a space or nothing ({@code http://[::1]:8080}).
     */
    private static boolean slice(String s, int i, int e) {
      boolean digit = false;
      for (int k = i; k < e && !digit; k++) {
        digit = isDigit(s.charAt(k));
      }
      if (!digit) {
        return true;
      }
      if (i >= 2 && s.charAt(i - 1) == '[') {
        char p = s.charAt(i - 2);
        return isWord(p) || p == ']' || p == ')';
      }
      return false;
    }

    static boolean validV6(String a) {
      if (a.length() < 3 || a.length() > 45) {
        return false;
      }
      int dbl = a.indexOf("::");
      if (dbl >= 0 && a.indexOf("::", dbl + 1) >= 0) {
        return false;
      }
      if (a.contains(":::")) {
        return false;
      }
      int groups = 0;
      String[] parts = a.split(":", -1);
      for (int k = 0; k < parts.length; k++) {
        String p = parts[k];
        if (p.isEmpty()) {
          continue;
        }
        if (p.indexOf('.') >= 0) {
          if (k != parts.length - 1 || parseV4(p, 0) != p.length()) {
            return false;
          }
          groups += 2;
          continue;
        }
        if (p.length() > 4) {
          return false;
        }
        groups++;
      }
      if (dbl < 0) {
        // No compression: exactly eight groups and no empty ones.
        for (String p : parts) {
          if (p.isEmpty()) {
            return false;
          }
        }
        return groups == 8;
      }
      if (a.startsWith(":") && !a.startsWith("::")) {
        return false;
      }
      if (a.endsWith(":") && !a.endsWith("::")) {
        return false;
      }
      return groups <= 7 && (groups >= 1 || a.equals("::"));
    }
  }

  /**
   * Email addresses: a local part of up to 64 characters, {@code @}, and a domain of at least two
   * labels whose last is alphabetic (so {@code user@localhost}, {@code pkg@1.2.3} and {@code
   * image@sha256:…} are not addresses).
   */
  static final class Email extends Detector {
    Email() {
      super("email", 70);
    }

    private final Encoded encoded = new Encoded(this);

    private final List<Detector> obfuscated =
        List.of(
            new Obfuscated(this, Obfuscated.Form.BRACKETED_AT),
            new Obfuscated(this, Obfuscated.Form.DOT_WORD),
            new Obfuscated(this, Obfuscated.Form.DEFANGED));

    @Override
    int needFlags() {
      return F_AT;
    }

    /** This, {@link Encoded} and {@link Obfuscated}, gated separately. */
    @Override
    List<Detector> parts() {
      return List.of(this, encoded, obfuscated.get(0), obfuscated.get(1), obfuscated.get(2));
    }

    /**
     * Last labels that look like a top-level domain but are not one (none is delegated in the IANA
     * root zone, https://data.iana.org/TLD/tlds-alpha-by-domain.txt): systemd unit suffixes ({@code
     * getty@tty1.service}, {@code user@1000.slice}, systemd.unit(5)) and image files named by scale
     * ({@code logo@2x.png}).
     */
    private static final String[] NOT_TLDS = {
      "service",
      "socket",
      "timer",
      "mount",
      "automount",
      "slice",
      "scope",
      "swap",
      "device",
      "png",
      "jpg",
      "jpeg",
      "gif",
      "webp",
      "svg",
      "ico",
      "bmp",
      "avif",
      "tiff"
    };

    /**
     * Whether s[from, to) is an internationalized top-level domain in its ASCII form, an A-label
     * ({@code xn--p1ai} for .рф; RFC 5890 section 2.3.2.1: {@code xn--}, then letters, digits and
     * hyphens). {@code first} is its first character: only a TLD starting with x is looked at.
     */
    static boolean punycode(char first, String s, int from, int to) {
      if ((first | 0x20) != 'x' || to - from < 5 || !s.regionMatches(true, from, "xn--", 0, 4)) {
        return false;
      }
      for (int k = from + 4; k < to; k++) {
        char c = s.charAt(k);
        if (!(c < 128 && (Character.isLetterOrDigit(c) || c == '-'))) {
          return false;
        }
      }
      return true;
    }

    /**
     * Whether the domain s(at, to) has no dot and is one A-label of at most 63 characters ({@code
     * user@xn--80ak6aa92e}, at least 8 characters as the shortest delegated one, {@code xn--p1ai};
     * RFC 5890 section 2.3.2.1, RFC 1035 section 2.3.4): an address at an internationalized
     * top-level domain itself, or one whose name before the TLD was cut. ICANN does not let a TLD
     * hold mail records (SSAC SAC053), but the local part before it is a person's as much as in a
     * deliverable address, and {@code xn--} names nothing else after an {@code @}. Read from the
     * sixteenth session; {@code x@com} (a package at a tag, a user at a host) is not.
     */
    static boolean dotlessPunycode(char first, String s, int at, int to) {
      return to - at - 1 >= 8 && to - at - 1 <= 63 && punycode(first, s, at + 1, to);
    }

    /** Whether s[from, to) is one of NOT_TLDS, any case; no allocation (runs on every address). */
    static boolean notTld(String s, int from, int to) {
      for (String t : NOT_TLDS) {
        if (t.length() == to - from && s.regionMatches(true, from, t, 0, t.length())) {
          return true;
        }
      }
      return false;
    }

    /**
     * The same on ASCII bytes (the byte path has checked the label is letters), against {@link
     * #NOT_TLDS} as bytes by length: every address on the row path reaches it, and going through
     * the 19 names' lengths and {@code String.charAt} was about 5 % of content detection on a table
     * with an email column (JFR).
     */
    static boolean notTld(byte[] b, int from, int len) {
      if (len >= NOT_TLDS_BY_LENGTH.length) {
        return false;
      }
      for (byte[] t : NOT_TLDS_BY_LENGTH[len]) {
        int k = 0;
        while (k < len && (b[from + k] | 0x20) == t[k]) {
          k++;
        }
        if (k == len) {
          return true;
        }
      }
      return false;
    }

    /** {@link #NOT_TLDS} in ASCII bytes, by length. */
    private static final byte[][][] NOT_TLDS_BY_LENGTH = byLength(NOT_TLDS);

    private static byte[][][] byLength(String[] names) {
      int max = 0;
      for (String t : names) {
        max = Math.max(max, t.length());
      }
      byte[][][] out = new byte[max + 1][][];
      for (int len = 0; len <= max; len++) {
        List<byte[]> of = new ArrayList<>();
        for (String t : names) {
          if (t.length() == len) {
            of.add(t.getBytes(StandardCharsets.US_ASCII));
          }
        }
        out[len] = of.toArray(new byte[0][]);
      }
      return out;
    }

    private static final byte LOCAL = 1;
    private static final byte DOMAIN = 2;

    /** ASCII characters of a local part and of a domain: one table load per character. */
    private static final byte[] ASCII = new byte[128];

    static {
      for (char c = 0; c < 128; c++) {
        boolean alnum = isAlnum(c);
        // RFC 5322 atext without the characters that end a name before an address in text
        // ({ } = / ? | ` in PostgreSQL arrays, query strings, tables and markup)
        ASCII[c] |= alnum || "._%+-'&!#$*^~".indexOf(c) >= 0 ? LOCAL : 0;
        ASCII[c] |= alnum || c == '-' || c == '.' ? DOMAIN : 0;
      }
    }

    static boolean localChar(char c) {
      return c < 128 ? (ASCII[c] & LOCAL) != 0 : Character.isLetterOrDigit(c);
    }

    static boolean domainChar(char c) {
      return c < 128 ? (ASCII[c] & DOMAIN) != 0 : Character.isLetterOrDigit(c);
    }

    /**
     * Addresses written URL-encoded ({@code carol%40example.net}, in a query string {@code
     * ?email=carol%40example.net}, RFC 3986 section 2.1), reported as {@code email}: a part of
     * {@link Email} gated by a {@code %} of its own, so that a value with an {@code @} and no
     * {@code %} (an email column) still arms the email detector alone and is masked on its bytes
     * ({@link #findAscii}).
     */
    static final class Encoded extends Detector {
      private final Email email;

      Encoded(Email email) {
        super("email", 70);
        this.email = email;
      }

      @Override
      int needFlags() {
        return F_PCT;
      }

      /** {@code a%40b.co}. */
      @Override
      int minLength() {
        return 8;
      }

      /**
       * The text is decoded (escapes of {@code U+0020-U+007E}; others stay as they are), searched
       * by {@link Email#find}, and each address whose {@code @} was an escape is reported at its
       * place in the original text. One decoding only: {@code %2540} (an encoded {@code %40}) is
       * not read as an address.
       */
      @Override
      void find(String s, List<Finding> out) {
        if (s.indexOf("%40") < 0) {
          return;
        }
        int[] from = new int[s.length() + 1];
        String decoded = decode(s, from);
        List<Finding> found = new Scanner.Findings(); // capped like the outer list
        email.find(decoded, found);
        for (Finding f : found) {
          int at = decoded.indexOf('@', f.start());
          if (at >= 0 && at < f.end() && s.charAt(from[at]) == '%') {
            add(out, from[f.start()], from[f.end()]);
          }
        }
      }

      /**
       * {@code s} with its {@code %XX} escapes of {@code U+0020-U+007E} decoded (others stay as
       * they are); {@code from[k]} is set to where decoded character {@code k} starts in {@code s}
       * (and the decoded length's entry to the length of {@code s}).
       */
      static String decode(String s, int[] from) {
        int n = s.length();
        StringBuilder d = new StringBuilder(n);
        int k = 0;
        for (int i = 0; i < n; k++) {
          from[k] = i;
          int v = s.charAt(i) == '%' && i + 2 < n ? hexByte(s.charAt(i + 1), s.charAt(i + 2)) : -1;
          if (v >= 0x20 && v < 0x7f) {
            d.append((char) v);
            i += 3;
          } else {
            d.append(s.charAt(i));
            i++;
          }
        }
        from[k] = n;
        return d.toString();
      }

      /** The byte {@code hi lo} written as two ASCII hex digits, or -1. */
      private static int hexByte(char hi, char lo) {
        return isHex(hi) && isHex(lo) ? Character.digit(hi, 16) << 4 | Character.digit(lo, 16) : -1;
      }
    }

    /**
     * Addresses written to escape harvesters (since the eighteenth session), reported as {@code
     * email}: the {@code @} as {@code (at)}, {@code [at]}, {@code {at}} or {@code <at>} (any case,
     * up to three spaces or tabs on each side), the dots as {@code (dot)}, {@code [dot]}, {@code
     * {dot}}, {@code <dot>}, {@code [.]}, {@code (.)} or {@code {.}} (the "defanged" dot of
     * security reports), or as the words {@code at} and {@code dot} between single spaces ({@code
     * ana at example dot com}). The text is read with these written as {@code @} and {@code .},
     * searched by {@link Email#find}, and each address found is reported at its place in the
     * original text when:
     *
     * <ul>
     *   <li>its {@code @} was written in brackets ({@code ana(at)example.com}); or
     *   <li>its {@code @} was a real one and a dot of its domain was written out ({@code
     *       ana@example[.]com}; one without is {@link Email}'s); or
     *   <li>its {@code @} was the word {@code at} (prose: "look at example.com", "meet at noon
     *       dot") and then only when the dot before its last label is written out too, the words
     *       {@code at} and {@code dot} are in one case (not "the Dot Com Cafe"), the word before
     *       {@code at} is no pronoun or common verb ("find us at example dot com" names a web site,
     *       "me at example dot com" no one) and the domain does not start with an article ("worked
     *       at a dot com startup").
     * </ul>
     *
     * <p>Gated by these markers as keywords, and on bytes by the same test ({@link #mayFindAscii}):
     * a sentence with {@code at} and no written-out dot never reaches the search.
     */
    static final class Obfuscated extends Detector {
      /** Which readings a part reports, each gated by what all of them have. */
      enum Form {
        /**
         * The at in brackets and a {@code .} in the text ({@code ana(at)example.com}, {@code
         * ana[at]example[.]com}): gated by {@code F_ANYDOT}, so that sentences without one and
         * names, streets and statuses do not arm it.
         */
        BRACKETED_AT,
        /**
         * A dot written as a word, in brackets or between spaces ({@code ana(at)example(dot)com},
         * {@code ana at example dot com}, {@code ana@example[dot]com}).
         */
        DOT_WORD,
        /**
         * A real {@code @} (or {@code ＠}) and a dot written {@code [.]}, {@code (.)} or {@code
         * {.}}: gated by {@code F_AT}.
         */
        DEFANGED;

        boolean marker(byte[] b, int i, int end, int close) {
          return Obfuscated.marker(this, b, i, end, close);
        }
      }

      private final Email email;
      private final Form form;

      Obfuscated(Email email, Form form) {
        super("email", 70);
        this.email = email;
        this.form = form;
      }

      /** Whether this is a part of {@code e}. */
      boolean of(Email e) {
        return email == e;
      }

      @Override
      int needFlags() {
        return form == Form.BRACKETED_AT ? F_ANYDOT : form == Form.DEFANGED ? F_AT : 0;
      }

      /** {@code a(at)b.co}, {@code a@b(dot)co}, {@code a@b[.]co}. */
      @Override
      int minLength() {
        return form == Form.BRACKETED_AT ? 9 : form == Form.DOT_WORD ? 10 : 8;
      }

      /** The markers every reading of the part has. */
      @Override
      List<String> keywords() {
        return switch (form) {
          case BRACKETED_AT -> List.of("(at)", "[at]", "{at}", "<at>");
          case DOT_WORD -> List.of("(dot)", "[dot]", "{dot}", "<dot>", " dot ");
          case DEFANGED -> List.of("[.]", "(.)", "{.}");
        };
      }

      @Override
      boolean hasAsciiGate() {
        return true;
      }

      /** The keywords' test on bytes, one compare per byte but at a bracket (or a space). */
      @Override
      boolean mayFindAscii(byte[] b, int off, int len) {
        int end = off + len;
        boolean words = form == Form.DOT_WORD;
        for (int i = off; i < end; i++) {
          int c = b[i];
          if (c < 0x20 ? c != '\t' && c != '\n' : c >= 0x7f) {
            return true;
          }
          if (c == '(' || c == '[' || c == '{' || c == '<') {
            if (markerAt(b, i, end, closing(c))) {
              return true;
            }
          } else if (words
              && c == ' '
              && i + 4 < end
              && (b[i + 1] | 0x20) == 'd'
              && (b[i + 2] | 0x20) == 'o'
              && (b[i + 3] | 0x20) == 't'
              && b[i + 4] == ' ') {
            return true;
          }
        }
        return false;
      }

      /** Whether this part's bracketed marker opens at {@code b[i]}. */
      private boolean markerAt(byte[] b, int i, int end, int close) {
        return form.marker(b, i, end, close);
      }

      /** Whether the bracketed marker of form {@code f} opens at {@code b[i]}. */
      static boolean marker(Form f, byte[] b, int i, int end, int close) {
        return switch (f) {
          case BRACKETED_AT ->
              i + 3 < end
                  && (b[i + 1] | 0x20) == 'a'
                  && (b[i + 2] | 0x20) == 't'
                  && b[i + 3] == close;
          case DOT_WORD ->
              i + 4 < end
                  && (b[i + 1] | 0x20) == 'd'
                  && (b[i + 2] | 0x20) == 'o'
                  && (b[i + 3] | 0x20) == 't'
                  && b[i + 4] == close;
          case DEFANGED -> i + 2 < end && b[i + 1] == '.' && b[i + 2] == close;
        };
      }

      private static int closing(int open) {
        return open == '(' ? ')' : open == '[' ? ']' : open == '{' ? '}' : '>';
      }

      /**
       * Whether a marker of any of the three parts starts at {@code b[i]} (before {@code end}): for
       * {@link Email#findAscii}, which leaves a value with one to the String path.
       */
      static boolean markerAt(byte[] b, int i, int end) {
        int c = b[i];
        if (c == ' ') {
          return i + 4 < end
              && (b[i + 1] | 0x20) == 'd'
              && (b[i + 2] | 0x20) == 'o'
              && (b[i + 3] | 0x20) == 't'
              && b[i + 4] == ' ';
        }
        if (c != '(' && c != '[' && c != '{' && c != '<') {
          return false;
        }
        int close = closing(c);
        for (Form f : FORMS) {
          if (f.marker(b, i, end, close)) {
            return true;
          }
        }
        return false;
      }

      private static final Form[] FORMS = Form.values();

      /**
       * Whether {@code b[off, off + len)} may hold the marker of any of the three parts ({@link
       * #markerAt}), or a byte the per-part gates pass to the String path. One loop for the three
       * (the Scanner drops all three without one), so that a value with none of them but an address
       * or a phone number (which are not keyword-gated, so the keyword search runs) is not searched
       * for their keywords.
       */
      static boolean anyMarker(byte[] b, int off, int len) {
        int end = off + len;
        int i = off;
        while (i < end) {
          if (i + 8 <= end && !mayEndMarker(Checks.word(b, i))) {
            i += 8; // no closing bracket, no d, no control or non-ASCII byte: eight at a time
            continue;
          }
          for (int stop = Math.min(end, i + 8); i < stop; i++) {
            int c = b[i];
            if (c < 0x20 ? c != '\t' && c != '\n' : c >= 0x7f) {
              return true;
            }
            int open = c == ')' ? '(' : c == ']' ? '[' : c == '}' ? '{' : c == '>' ? '<' : 0;
            if (open != 0
                ? i - 2 >= off && closesMarker(b, off, i, open)
                : dotWordAt(b, off, i, end)) {
              return true; // a whole marker: an address in angle brackets is not one
            }
          }
        }
        return false;
      }

      /**
       * Whether the eight bytes of {@code x} may hold the last character of a bracketed marker (a
       * closing bracket), the d of {@code " dot "} in either case, or a byte the gates do not
       * judge. ORing 0x20 into each byte folds {@code D} into {@code d} and {@code ]} into {@code
       * }} (and a tab into {@code )}: a word with one is read byte by byte, as it may be anyway).
       */
      private static boolean mayEndMarker(long x) {
        long z = x | 0x2020202020202020L;
        return Checks.hasByte(z, ')')
            || Checks.hasByte(z, '}')
            || Checks.hasByte(z, '>')
            || Checks.hasByte(z, 'd')
            || Checks.hasControlOrNonAscii(x);
      }

      /** Whether a bracketed marker opened by {@code open} ends at {@code b[i]} (i - 2 >= off). */
      private static boolean closesMarker(byte[] b, int off, int i, int open) {
        int p = b[i - 1];
        if (p == '.') {
          return b[i - 2] == open;
        }
        if ((p | 0x20) != 't') {
          return false;
        }
        int q = b[i - 2] | 0x20;
        if (q == 'a') {
          return i - 3 >= off && b[i - 3] == open;
        }
        return q == 'o' && i - 4 >= off && (b[i - 3] | 0x20) == 'd' && b[i - 4] == open;
      }

      /** Whether {@code " dot "} (any case) has its d at {@code b[i]}. */
      private static boolean dotWordAt(byte[] b, int off, int i, int end) {
        return (b[i] | 0x20) == 'd'
            && i - 1 >= off
            && i + 3 < end
            && b[i - 1] == ' '
            && (b[i + 1] | 0x20) == 'o'
            && (b[i + 2] | 0x20) == 't'
            && b[i + 3] == ' ';
      }

      /** How a read character was written ({@code kind[k]} of decoded character k; 0 as is). */
      private static final byte AT_BRACKET = 1;

      private static final byte AT_WORD = 2; // "at"

      private static final byte AT_WORD_UPPER = 3; // "AT"

      private static final byte DOT_BRACKET = 4; // "(dot)", "[dot]", …

      private static final byte DOT_SYMBOL = 7; // "[.]", "(.)", "{.}"

      private static final byte DOT_WORD = 5; // "dot"

      private static final byte DOT_WORD_UPPER = 6; // "DOT"

      @Override
      void find(String s, List<Finding> out) {
        int n = s.length();
        int[] from = new int[n + 1];
        byte[] kind = new byte[n + 1];
        String d = read(s, from, kind);
        if (d == null) {
          return;
        }
        List<Finding> found = new Scanner.Findings(); // capped like the outer list
        email.find(d, found);
        for (Finding f : found) {
          int at = d.indexOf('@', f.start());
          if (at < 0
              || at >= f.end()
              || !accept(d, kind, f.start(), at, f.end())
              || !ownForm(s, kind, f.start(), at, from[f.start()], from[f.end()], f.end())) {
            continue;
          }
          add(out, from[f.start()], from[f.end()]);
        }
      }

      /** A dot in {@code s[start, end)}: looked for there only, not to the value's end. */
      private static boolean dotIn(String s, int start, int end) {
        for (int k = start; k < end; k++) {
          if (s.charAt(k) == '.') {
            return true;
          }
        }
        return false;
      }

      /**
       * Whether the address (original {@code s[start, end)}, decoded {@code [dStart, dEnd)}) is
       * this part's to report: it has the marker its gates need, so that a part never reports what
       * its gates may not arm it for (another part reports it).
       */
      private boolean ownForm(
          String s, byte[] kind, int dStart, int at, int start, int end, int dEnd) {
        boolean word = false;
        boolean symbol = false;
        // the local part's dots too: ana[.]smith@example.com (Email alone showed "ana[.]")
        for (int k = dStart; k < dEnd; k++) {
          word |= kind[k] == DOT_BRACKET || kind[k] == DOT_WORD || kind[k] == DOT_WORD_UPPER;
          symbol |= kind[k] == DOT_SYMBOL;
        }
        return switch (form) {
          case BRACKETED_AT -> kind[at] == AT_BRACKET && dotIn(s, start, end);
          case DOT_WORD -> word;
          case DEFANGED -> kind[at] == 0 && symbol;
        };
      }

      /** Whether the address {@code d[start, end)} with its {@code @} at {@code at} is read. */
      private static boolean accept(String d, byte[] kind, int start, int at, int end) {
        if (kind[at] == AT_BRACKET) {
          return true;
        }
        if (kind[at] == 0) {
          for (int k = start; k < end; k++) {
            if (k != at && kind[k] >= DOT_BRACKET) {
              return true; // a dot written out, in the domain or the local part
            }
          }
          return false; // a real @ and no written-out dot: Email's
        }
        // (DOT_SYMBOL after a word "at" is not read: "look at example[.]com" as prose)
        // the word "at": the dot before the last label written out, a word one in the same case
        int lastDot = d.lastIndexOf('.', end - 1);
        int dot = lastDot > at ? kind[lastDot] : 0;
        boolean sameCase =
            dot == DOT_BRACKET || dot == (kind[at] == AT_WORD ? DOT_WORD : DOT_WORD_UPPER);
        return sameCase && !prose(d, start, at, end);
      }

      /**
       * Words before {@code at} that make it prose, not a local part (pronouns, forms of be, verbs
       * of place and looking), and words that start a domain in prose (articles, determiners).
       */
      private static final java.util.Set<String> NOT_LOCAL =
          java.util.Set.of(
              "i",
              "me",
              "us",
              "you",
              "him",
              "her",
              "them",
              "it",
              "we",
              "they",
              "he",
              "she",
              "is",
              "are",
              "was",
              "were",
              "be",
              "been",
              "am",
              "look",
              "looked",
              "looking",
              "find",
              "found",
              "visit",
              "visited",
              "online",
              "available",
              "here",
              "there",
              "live",
              "lives",
              "lived",
              "work",
              "works",
              "worked",
              "working",
              "stay",
              "stayed",
              "meet",
              "met",
              "arrive",
              "arrived",
              "both",
              "all",
              "only",
              "just",
              "even",
              "also",
              "not",
              "and",
              "or",
              "but",
              "then",
              "where",
              "what",
              "who",
              "that",
              "this");

      private static final java.util.Set<String> NOT_DOMAIN =
          java.util.Set.of(
              "a", "an", "the", "this", "that", "my", "our", "your", "his", "her", "their", "its",
              "some", "any", "one", "each", "every", "no");

      private static boolean prose(String d, int start, int at, int end) {
        int label = at + 1;
        while (label < end && d.charAt(label) != '.') {
          label++;
        }
        String local = d.substring(start, at).toLowerCase(Locale.ROOT);
        String first = d.substring(at + 1, label).toLowerCase(Locale.ROOT);
        return NOT_LOCAL.contains(local) || NOT_DOMAIN.contains(first);
      }

      /**
       * {@code s} with its written-out at and dots read as {@code @} and {@code .}, or null when it
       * has none; {@code from[k]} is where decoded character {@code k} starts in {@code s} (and the
       * decoded length's entry the length of {@code s}), {@code kind[k]} how it was written. The
       * words {@code at} and {@code dot} (or {@code AT} and {@code DOT}; not {@code Dot}) are read
       * between single spaces, between letters or digits.
       */
      static String read(String s, int[] from, byte[] kind) {
        int n = s.length();
        StringBuilder d = null;
        int k = 0;
        for (int i = 0; i < n; k++) {
          from[k] = i;
          int m = marker(s, i);
          if (m != 0) {
            if (d == null) {
              d = new StringBuilder(n);
              d.append(s, 0, i);
            }
            byte how = (byte) (m & 7);
            d.append(how >= DOT_BRACKET ? '.' : '@');
            kind[k] = how;
            i = m >>> 3;
          } else {
            if (d != null) {
              d.append(s.charAt(i));
            }
            kind[k] = 0;
            i++;
          }
        }
        from[k] = n;
        return d == null ? null : d.toString();
      }

      /**
       * The marker at {@code i}: its end (exclusive) shifted left by 3 and its kind in the low
       * three bits; 0 for none. A bracketed one with up to three spaces or tabs on each side.
       */
      private static int marker(String s, int i) {
        int n = s.length();
        int j = i;
        while (j < n && j - i < 3 && (s.charAt(j) == ' ' || s.charAt(j) == '\t')) {
          j++;
        }
        if (j < n) {
          char c = s.charAt(j);
          if (c == '(' || c == '[' || c == '{' || c == '<') {
            int close = closing(c);
            int e = -1;
            int how = 0;
            if (j + 2 < n && s.charAt(j + 1) == '.' && s.charAt(j + 2) == close) {
              e = j + 3;
              how = DOT_SYMBOL;
            } else if (j + 3 < n
                && s.regionMatches(true, j + 1, "at", 0, 2)
                && s.charAt(j + 3) == close) {
              e = j + 4;
              how = AT_BRACKET;
            } else if (j + 4 < n
                && s.regionMatches(true, j + 1, "dot", 0, 3)
                && s.charAt(j + 4) == close) {
              e = j + 5;
              how = DOT_BRACKET;
            }
            if (e > 0) {
              int t = e;
              while (t < n && t - e < 3 && (s.charAt(t) == ' ' || s.charAt(t) == '\t')) {
                t++;
              }
              return t << 3 | how;
            }
          }
        }
        if (s.charAt(i) != ' ' || i == 0 || !isAlnum(s.charAt(i - 1))) {
          return 0;
        }
        if (i + 4 < n && s.charAt(i + 3) == ' ' && isAlnum(s.charAt(i + 4))) {
          if (s.startsWith("at", i + 1)) {
            return (i + 4) << 3 | AT_WORD;
          }
          if (s.startsWith("AT", i + 1)) {
            return (i + 4) << 3 | AT_WORD_UPPER;
          }
        }
        if (i + 5 < n && s.charAt(i + 4) == ' ' && isAlnum(s.charAt(i + 5))) {
          if (s.startsWith("dot", i + 1)) {
            return (i + 5) << 3 | DOT_WORD;
          }
          if (s.startsWith("DOT", i + 1)) {
            return (i + 5) << 3 | DOT_WORD_UPPER;
          }
        }
        return 0;
      }
    }

    @Override
    void find(String s, List<Finding> out) {
      int n = s.length();
      int from = 0;
      int at;
      while ((at = s.indexOf('@', from)) >= 0) {
        from = at + 1;
        int st = quotedLocal(s, at);
        boolean quoted = st < at;
        while (!quoted && st > 0 && localChar(s.charAt(st - 1)) && at - st < 64) {
          st--;
        }
        while (st < at && (s.charAt(st) == '.' || s.charAt(st) == '\'')) {
          st++;
        }
        if (st == at || s.charAt(at - 1) == '.') {
          continue;
        }
        if (st >= 3 && s.startsWith("://", st - 3)) {
          continue; // user name in a URL, not an address (its password is a separate detector)
        }
        int e = at + 1;
        while (e < n && domainChar(s.charAt(e)) && e - at < 255) {
          e++;
        }
        while (e > at + 1 && (s.charAt(e - 1) == '.' || s.charAt(e - 1) == '-')) {
          e--;
        }
        int lastDot = e - 1;
        while (lastDot > at && s.charAt(lastDot) != '.') {
          lastDot--; // bounded by the domain, unlike lastIndexOf over the whole text
        }
        boolean dotless =
            lastDot == at && e - at > 5 && dotlessPunycode(s.charAt(at + 1), s, at, e);
        if (!dotless) {
          if (lastDot <= at + 1 || s.charAt(at + 1) == '.' || s.charAt(at + 1) == '-') {
            continue;
          }
          int tld = e - lastDot - 1;
          if (tld < 2 || tld > 24) {
            continue;
          }
          boolean alpha = true;
          for (int k = lastDot + 1; k < e; k++) {
            if (!Character.isLetter(s.charAt(k))) {
              alpha = false;
              break;
            }
          }
          alpha = alpha || punycode(s.charAt(lastDot + 1), s, lastDot + 1, e);
          // Looked for in the domain only: a search to the end of the value per address made a
          // value of many addresses quadratic (red team rt18pg F1).
          if (!alpha || doubleDot(s, at + 1, e)) {
            continue;
          }
          if (notTld(s, lastDot + 1, e)) {
            continue; // getty@tty1.service, logo@2x.png: a unit or a file name, not an address
          }
        }
        if (e + 1 < n && s.charAt(e) == ':' && !Character.isWhitespace(s.charAt(e + 1))) {
          continue; // scp-style user@host:path (git remotes), not an address
        }
        add(out, st, e);
        from = e;
      }
    }

    /** Whether {@code s} has two dots in a row between {@code from} and {@code end}. */
    private static boolean doubleDot(String s, int from, int end) {
      for (int k = from; k + 1 < end; k++) {
        if (s.charAt(k) == '.' && s.charAt(k + 1) == '.') {
          return true;
        }
      }
      return false;
    }

    /**
     * The start of a quoted local part ({@code "john.doe"@example.com}, RFC 5322 section 3.4.1)
     * ending at {@code at}: its opening quote, at most 64 characters back on the same line, with no
     * backslash or other quote inside and not glued to a word; {@code at} when there is none.
     */
    static int quotedLocal(String s, int at) {
      if (at < 3 || s.charAt(at - 1) != '"') {
        return at;
      }
      char esc = s.charAt(at - 2);
      if (at >= 5 && (esc == '"' || esc == '\\')) {
        return escapedQuotedLocal(s, at, esc);
      }
      for (int k = at - 2; k >= 0 && at - k <= 64; k--) {
        char c = s.charAt(k);
        if (c == '"') {
          return k < at - 2 && (k == 0 || !isWord(s.charAt(k - 1))) ? k : at;
        }
        if (c == '\\' || c == '\n' || c == '\r') {
          return at;
        }
      }
      return at;
    }

    /**
     * The start of a quoted local part whose quotes are escaped, doubled in a CSV field ({@code
     * """john.smith""@example.com"}, RFC 4180 section 2) or after a backslash in a JSON string
     * ({@code \"john.smith\"@example.com}, RFC 8259 section 7): the first character inside the
     * quotes, so that the opening escape stays whole and the masked text stays valid CSV or JSON;
     * {@code at} when there is none.
     */
    private static int escapedQuotedLocal(String s, int at, char esc) {
      for (int k = at - 3; k >= 1 && at - k <= 66; k--) {
        char c = s.charAt(k);
        if (c == '"') {
          return s.charAt(k - 1) == esc && k < at - 3 ? k + 1 : at;
        }
        if (c == '\\' || c == '\n' || c == '\r') {
          return at;
        }
      }
      return at;
    }

    /**
     * {@link #find} over UTF-8 bytes {@code b[off, off + len)}, for the PostgreSQL path, where a
     * value that arms only this detector (an email column) would otherwise be decoded to a String
     * and its result encoded back. Positions in {@code out} are byte offsets from {@code off}. The
     * result is that of {@link #find} on the decoded text: the local part may contain non-ASCII
     * letters (decoded here, counted as characters for the 64-character limit); when the String
     * version would have to classify any other non-ASCII character (in a domain, right after {@code
     * :}, a character outside the BMP, malformed UTF-8) this returns false, with {@code out}
     * unspecified, and the caller takes the String path.
     */
    boolean findAscii(byte[] b, int off, int len, List<Finding> out) {
      int n = len;
      int from = 0;
      int at;
      // The search for @ covers every byte outside the domains (which are walked below, and any
      // non-ASCII byte there goes to the String path): it also stops at the lead byte EF of a
      // full-width at (EF BC A0), which the String path reads (Scanner.scanNormalized).
      while ((at = indexOfAt(b, off, from, n)) >= 0) {
        from = at + 1;
        if (at > 0 && b[off + at - 1] == '"') {
          return false; // a quoted local part: the String path reads it (quotedLocal)
        }
        int st = at;
        int chars = 0; // characters walked: the String version's at - st
        while (st > 0 && chars < 64) {
          int c = b[off + st - 1];
          if (c >= 0) {
            if ((ASCII[c] & LOCAL) == 0) {
              break;
            }
            st--;
          } else {
            // A non-ASCII letter in the local part (émile.müller@…): decode the character that
            // ends here; anything but a well-formed 2- or 3-byte sequence goes to the String path.
            int k = charBefore(b, off, st);
            if (k == 0 || Checks.isInvisible(decode(b, off + st - k, k))) {
              return false; // an invisible character is read by the String path (scanNormalized)
            }
            if (!Character.isLetterOrDigit(decode(b, off + st - k, k))) {
              break;
            }
            st -= k;
          }
          chars++;
        }
        while (st < at && (b[off + st] == '.' || b[off + st] == '\'')) {
          st++;
        }
        if (st == at || b[off + at - 1] == '.') {
          continue;
        }
        if (st >= 3 && b[off + st - 3] == ':' && b[off + st - 2] == '/' && b[off + st - 1] == '/') {
          continue;
        }
        // One walk over the domain also notes its last dot and its first "..", which the String
        // version finds with separate searches.
        int e = at + 1;
        int lastDot = at;
        int doubleDot = -1;
        while (e < n && e - at < 255) {
          int c = b[off + e];
          if (c < 0) {
            return false;
          }
          if ((ASCII[c] & DOMAIN) == 0) {
            break;
          }
          if (c == '.') {
            doubleDot = doubleDot < 0 && lastDot == e - 1 && e - 1 > at ? e - 1 : doubleDot;
            lastDot = e;
          }
          e++;
        }
        int walked = e;
        while (e > at + 1 && (b[off + e - 1] == '.' || b[off + e - 1] == '-')) {
          e--;
        }
        if (e != walked) {
          lastDot = e - 1; // trailing dots or dashes cut: find the last dot again
          while (lastDot > at && b[off + lastDot] != '.') {
            lastDot--;
          }
        }
        // (a copy only for a dotless domain that starts with x: rare)
        boolean dotless =
            lastDot == at
                && e - at > 5
                && (b[off + at + 1] | 0x20) == 'x'
                && dotlessPunycode(
                    'x', new String(b, off + at, e - at, StandardCharsets.ISO_8859_1), 0, e - at);
        if (!dotless) {
          if (lastDot <= at + 1 || b[off + at + 1] == '.' || b[off + at + 1] == '-') {
            continue;
          }
          int tld = e - lastDot - 1;
          if (tld < 2 || tld > 24) {
            continue;
          }
          boolean alpha = true;
          for (int k = lastDot + 1; k < e && alpha; k++) {
            int c = b[off + k] | 0x20; // ASCII here (checked by the domain walk)
            alpha = c >= 'a' && c <= 'z';
          }
          // (a copy only for a TLD that starts with x and is not all letters: rare)
          alpha =
              alpha
                  || ((b[off + lastDot + 1] | 0x20) == 'x'
                      && punycode(
                          'x',
                          new String(b, off + lastDot + 1, tld, StandardCharsets.ISO_8859_1),
                          0,
                          tld));
          if (!alpha || (doubleDot >= 0 && doubleDot + 2 <= e)) {
            continue;
          }
          if (notTld(b, off + lastDot + 1, tld)) {
            continue; // as in the String path
          }
        }
        if (e + 1 < n && b[off + e] == ':') {
          int c = b[off + e + 1];
          if (c < 0) {
            return false; // is it whitespace? Only the String path can tell
          }
          if (!Character.isWhitespace(c)) {
            continue;
          }
        }
        add(out, st, e);
        from = e;
      }
      if (at == -2) {
        return false;
      }
      return true;
    }

    /**
     * The length in bytes (2 or 3) of the well-formed UTF-8 sequence of a character from U+0080 to
     * U+FFFF (not a surrogate) that ends just before {@code b[off + end]}, or 0 when there is none
     * (a malformed sequence, or a character outside the BMP, which a String holds as two chars).
     */
    static int charBefore(byte[] b, int off, int end) {
      if (end < 2 || !continuation(b[off + end - 1])) {
        return 0;
      }
      int b1 = b[off + end - 2] & 0xff;
      if (b1 >= 0xc2 && b1 <= 0xdf) {
        return 2;
      }
      if (end < 3 || !continuation(b[off + end - 2])) {
        return 0;
      }
      int b0 = b[off + end - 3] & 0xff;
      if (b0 < 0xe0 || b0 > 0xef) {
        return 0;
      }
      // E0 needs A0-BF next (no overlong form), ED needs 80-9F (no surrogates).
      boolean ok = b0 == 0xe0 ? b1 >= 0xa0 : b0 != 0xed || b1 <= 0x9f;
      return ok ? 3 : 0;
    }

    private static boolean continuation(byte x) {
      return (x & 0xc0) == 0x80;
    }

    /** The character of the well-formed 2- or 3-byte sequence at {@code b[p]}. */
    static int decode(byte[] b, int p, int k) {
      return k == 2
          ? (b[p] & 0x1f) << 6 | (b[p + 1] & 0x3f)
          : (b[p] & 0x0f) << 12 | (b[p + 1] & 0x3f) << 6 | (b[p + 2] & 0x3f);
    }

    /** The length in bytes of the UTF-8 character whose first byte is {@code lead}. */
    static int charLength(byte lead) {
      int x = lead & 0xff;
      return x < 0x80 ? 1 : x < 0xe0 ? 2 : x < 0xf0 ? 3 : 4;
    }

    /**
     * The next {@code @} from {@code from}; -2 at a byte EF, an ESC or a marker of an address
     * written out ({@link Obfuscated#markerAt}) first; -1 when there is none of them.
     */
    private static int indexOfAt(byte[] b, int off, int from, int n) {
      for (int i = from; i < n; i++) {
        byte x = b[off + i];
        if (STOP[x & 0xff]) {
          if (x == '@') {
            return i;
          }
          if (x == (byte) 0xef || x == 0x1b || Obfuscated.markerAt(b, off + i, off + n)) {
            // a full-width at, an escape sequence that may split an address, or an address
            // written out ((at), [.], " dot "), which the String path reads (Obfuscated)
            return -2;
          }
        }
      }
      return -1;
    }

    /** The bytes {@link #indexOfAt} looks at: one table load per byte. */
    private static final boolean[] STOP = new boolean[256];

    static {
      for (char c : "@([{< ".toCharArray()) {
        STOP[c] = true;
      }
      STOP[0xef] = true;
      STOP[0x1b] = true;
    }
  }
}
