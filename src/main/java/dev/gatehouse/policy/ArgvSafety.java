package dev.gatehouse.policy;

import java.text.Normalizer;
import java.util.List;

/**
 * Rejects argv that is built to deceive: characters a reader (or a reviewer approving the command)
 * cannot see, and tokens that only look like ASCII words. Such a command is treated as the most
 * dangerous kind of command: the engine denies it before any rule is looked at, with the reason
 * naming the character ({@link #RULE}).
 *
 * <p>A token is unsafe when it contains
 *
 * <ul>
 *   <li>a control character (NUL, ESC, CR, DEL, C1 controls); TAB and LF are allowed in arguments,
 *       not in the binary;
 *   <li>an invisible formatting character (Unicode category Cf: zero-width space, joiner and
 *       non-joiner, bidi overrides and isolates, soft hyphen, byte order mark, ...), or another
 *       code point that renders as nothing: Hangul fillers, the braille blank, the combining
 *       grapheme joiner ({@link #BLANK_LETTERS}), a variation selector that selects nothing (only
 *       right after an emoji, an ideograph or a Mongolian letter is one allowed: {@code ❤️} in a
 *       message);
 *   <li>a non-ASCII space or line separator (NBSP, thin space, ideographic space, U+2028, ...),
 *       which looks like a word separator but is not one;
 *   <li>a look-alike of an ASCII word: after NFKC normalisation (fullwidth {@code ｐｕｂｌｉｓｈ},
 *       ligatures, mathematical letters) and mapping Cyrillic, Greek and other letters that look
 *       like Latin ones ({@code рublish} with a Cyrillic {@code р}), the token is pure ASCII but
 *       differs from what was sent;
 *   <li>a leading dash look-alike ({@code —force}, {@code −f}).
 * </ul>
 *
 * <p>Ordinary non-ASCII text (file names, messages: {@code über}, {@code 日本語}, {@code Москва}) is
 * left alone; an empty command (no binary) is unsafe too.
 */
public final class ArgvSafety {
  /** Rule id of the built-in denial; reserved, a policy cannot use it. */
  public static final String RULE = "unsafe-command";

  private ArgvSafety() {}

  /**
   * Whether {@code program} (a name or a path) is a shell: its arguments are scripts. The one list
   * the policy's command unwrapping uses too.
   */
  public static boolean isShell(String program) {
    return CommandWrappers.isShell(program);
  }

  /**
   * Why this command is unsafe, or null when it is not.
   *
   * @param argv argv, argv[0] first
   * @param binary the resolved binary, or null
   */
  public static String problem(List<String> argv, String binary) {
    boolean noBinary = binary == null || binary.isBlank();
    if (noBinary && (argv.isEmpty() || argv.get(0).isBlank())) {
      return "the command is empty (no program to run)";
    }
    if (!noBinary) {
      String why = token(binary, true);
      if (why != null) {
        return "the binary " + why;
      }
    }
    for (int i = 0; i < argv.size(); i++) {
      String t = argv.get(i);
      if (i == 0 && t.isBlank()) {
        return "argv[0] is blank";
      }
      String why = token(t, i == 0);
      if (why != null) {
        return (i == 0 ? "argv[0] " : "argument " + i + " ") + why;
      }
    }
    return null;
  }

  /** Why one token is unsafe, or null. */
  static String token(String t, boolean binary) {
    boolean ascii = true;
    int prev = -1;
    for (int i = 0; i < t.length(); ) {
      int before = prev;
      int cp = t.codePointAt(i);
      prev = cp;
      i += Character.charCount(cp);
      if (cp < 0x80) {
        if ((cp < 0x20 && !(!binary && (cp == '\t' || cp == '\n'))) || cp == 0x7f) {
          return quote(t) + " contains the control character " + name(cp);
        }
        continue;
      }
      ascii = false;
      int type = Character.getType(cp);
      if (Character.isISOControl(cp)
          || type == Character.FORMAT
          || type == Character.PRIVATE_USE
          || type == Character.SURROGATE
          || type == Character.UNASSIGNED) {
        return quote(t) + " contains the invisible or control character " + name(cp);
      }
      if (BLANK_LETTERS.indexOf(cp) >= 0) {
        return quote(t) + " contains the invisible character " + name(cp) + " (renders as nothing)";
      }
      if (isVariationSelector(cp) && !selects(cp, before)) {
        return quote(t)
            + " contains the invisible "
            + name(cp)
            + (before < 0 ? " at its start" : " after " + name(before))
            + " (allowed only right after an emoji, an ideograph or a Mongolian letter)";
      }
      if (type == Character.SPACE_SEPARATOR
          || type == Character.LINE_SEPARATOR
          || type == Character.PARAGRAPH_SEPARATOR) {
        return quote(t) + " contains the non-ASCII space " + name(cp) + " (not a word separator)";
      }
    }
    if (ascii) {
      return null;
    }
    int first = t.codePointAt(0);
    if (first == 0x2212
        || (first >= 0x80 && Character.getType(first) == Character.DASH_PUNCTUATION)) {
      return quote(t) + " starts with " + name(first) + ", which looks like a flag's '-'";
    }
    String nfc = Normalizer.normalize(t, Normalizer.Form.NFC);
    String skeleton = skeleton(Normalizer.normalize(t, Normalizer.Form.NFKC));
    if (!skeleton.equals(nfc) && isAscii(skeleton)) {
      return quote(t) + " only looks like \"" + skeleton + "\" (" + firstNonAscii(t) + ")";
    }
    return null;
  }

  /**
   * Code points that are not category Cf yet render as nothing (Unicode's
   * Default_Ignorable_Code_Point and the blank "letters" look-alike attacks use): the Hangul
   * fillers U+115F, U+1160, U+3164, U+FFA0 (Lo), the braille blank U+2800 (So), the combining
   * grapheme joiner U+034F (Mn), the Khmer inherent vowels U+17B4, U+17B5 (Mn; Unicode discourages
   * their use). A word holding one differs from the word it shows.
   */
  private static final String BLANK_LETTERS =
      new StringBuilder()
          .appendCodePoint(0x115F)
          .appendCodePoint(0x1160)
          .appendCodePoint(0x3164)
          .appendCodePoint(0xFFA0)
          .appendCodePoint(0x2800)
          .appendCodePoint(0x034F)
          .appendCodePoint(0x17B4)
          .appendCodePoint(0x17B5)
          .toString();

  /**
   * Variation selectors (category Mn, invisible): VS1-VS16 U+FE00-U+FE0F, VS17-VS256
   * U+E0100-U+E01EF, the Mongolian free variation selectors U+180B-U+180D, U+180F.
   */
  static boolean isVariationSelector(int cp) {
    return (cp >= 0xFE00 && cp <= 0xFE0F)
        || (cp >= 0xE0100 && cp <= 0xE01EF)
        || (cp >= 0x180B && cp <= 0x180D)
        || cp == 0x180F;
  }

  /**
   * Whether variation selector {@code vs} right after {@code base} selects a glyph of it, as text
   * uses them: VS16 after an emoji ({@code ❤️}, U+2764 U+FE0F, in a commit message), a selector
   * after an ideograph (CJK compatibility and Ideographic Variation Sequences), a Mongolian one
   * after a Mongolian letter. ASCII bases are refused (a keycap {@code 1️⃣} starts with the digit
   * 1: rare in argv, and {@code 1} U+FE0F looks like {@code 1}); so is a selector after a selector.
   */
  private static boolean selects(int vs, int base) {
    if (base < 0x80 || isVariationSelector(base)) {
      return false;
    }
    if (vs >= 0x180B && vs <= 0x180F) {
      return Character.UnicodeScript.of(base) == Character.UnicodeScript.MONGOLIAN;
    }
    return Character.isEmoji(base) || Character.isIdeographic(base);
  }

  private static boolean isAscii(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) >= 0x80) {
        return false;
      }
    }
    return true;
  }

  private static String firstNonAscii(String t) {
    for (int i = 0; i < t.length(); ) {
      int cp = t.codePointAt(i);
      if (cp >= 0x80) {
        return name(cp);
      }
      i += Character.charCount(cp);
    }
    return "";
  }

  /** Non-Latin letters that render like Latin ones, as pairs: look-alike, Latin letter. */
  private static final String CONFUSABLES =
      // Cyrillic lower case
      "аaвbеeѕsіiјjоoрpсcуyхxһhԁdԛqԝwӏlүyѵvьbԍgԌGԀd"
          // Cyrillic upper case
          + "АAВBЕEЅSІIЈJКKМMНHОOРPСCТTХXҮYԚQԜW"
          // Greek
          + "αaοoνvιiκkρpυuχxγyτtΑAΒBΕEΖZΗHΙIΚKΜMΝNΟOΡPΤTΥYΧXϳj"
          // Armenian, Latin extensions and others
          + "օoսuցgհhոnզqաwıiȷjɑaɡgɩiʏyᴀaᴄcᴅdᴇeᴊjᴋkᴍmᴏoᴘpᴛtᴜuᴠvᴡwᴢz";

  /** Maps look-alike letters to the Latin letters they imitate. */
  static String skeleton(String s) {
    StringBuilder b = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        if (b != null) {
          b.append(c);
        }
        continue;
      }
      int at = -1;
      for (int j = 0; j < CONFUSABLES.length(); j += 2) {
        if (CONFUSABLES.charAt(j) == c) {
          at = j;
          break;
        }
      }
      if (b == null) {
        b = new StringBuilder(s.length()).append(s, 0, i);
      }
      b.append(at < 0 ? c : CONFUSABLES.charAt(at + 1));
    }
    return b == null ? s : b.toString();
  }

  private static String quote(String t) {
    StringBuilder b = new StringBuilder("\"");
    for (int i = 0; i < t.length() && i < 80; ) {
      int cp = t.codePointAt(i);
      i += Character.charCount(cp);
      if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && !Character.isLetterOrDigit(cp))) {
        b.append(String.format("\\u%04X", cp));
      } else {
        b.appendCodePoint(cp);
      }
    }
    return b.append(t.length() > 80 ? "...\"" : "\"").toString();
  }

  private static String name(int cp) {
    String n = Character.getName(cp);
    return String.format("U+%04X", cp) + (n == null ? "" : " " + n);
  }
}
