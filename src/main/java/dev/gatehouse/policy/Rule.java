package dev.gatehouse.policy;

import dev.gatehouse.identity.Principal;
import dev.gatehouse.identity.PrincipalKind;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** One compiled rule. Immutable; built only by {@link RuleParser}. */
final class Rule {
  final int index;
  final String id;
  final String description;
  final String file;
  final int line;
  final Effect effect;
  final String reason;

  // subjects: (no users and no groups, or user/group listed) and (no kinds, or kind listed)
  final Set<String> users;
  final List<Glob> userGlobs;
  final Set<String> groups;
  final List<Glob> groupGlobs;
  final Set<PrincipalKind> kinds;

  // connections: every listed dimension must match
  final List<Glob> names;
  final Set<String> types;
  final Map<String, Glob> labels;

  final EnumMap<ActionKind, KindMatcher> matchers;
  final RuleObligations obligations;
  final ReviewRequirement review;
  final Condition when;
  final String label;
  // explanation lines that do not depend on the request, built once (no allocation per decision)
  final String matchesLine;
  final String matchesWhenLine;
  final String connectSkipLine;

  Rule(
      int index,
      String id,
      String description,
      String file,
      int line,
      Effect effect,
      String reason,
      Set<String> users,
      List<Glob> userGlobs,
      Set<String> groups,
      List<Glob> groupGlobs,
      Set<PrincipalKind> kinds,
      List<Glob> names,
      Set<String> types,
      Map<String, Glob> labels,
      EnumMap<ActionKind, KindMatcher> matchers,
      RuleObligations obligations,
      ReviewRequirement review,
      Condition when) {
    this.index = index;
    this.id = id;
    this.description = description;
    this.file = file;
    this.line = line;
    this.effect = effect;
    this.reason = reason;
    this.users = users;
    this.userGlobs = userGlobs;
    this.groups = groups;
    this.groupGlobs = groupGlobs;
    this.kinds = kinds;
    this.names = names;
    this.types = types;
    this.labels = labels;
    this.matchers = matchers;
    this.obligations = obligations;
    this.review = review;
    this.when = when;
    this.label =
        "rule "
            + id
            + " ("
            + effect.name().toLowerCase(java.util.Locale.ROOT)
            + ", "
            + file
            + ":"
            + line
            + ")";
    this.matchesLine = label + ": matches";
    this.matchesWhenLine = label + ": matches (when is true)";
    this.connectSkipLine =
        label
            + ": when not evaluated: the connection is already allowed and this rule's"
            + " obligations would not change the merged ones";
  }

  boolean anySubject() {
    return users.isEmpty() && userGlobs.isEmpty() && groups.isEmpty() && groupGlobs.isEmpty();
  }

  boolean subjectMatches(Principal p) {
    if (!kinds.isEmpty() && (p.kind() == null || !kinds.contains(p.kind()))) {
      return false;
    }
    if (anySubject() || users.contains(p.subject()) || SqlMatcher.any(userGlobs, p.subject())) {
      return true;
    }
    for (String g : p.groups()) {
      if (groups.contains(g) || SqlMatcher.any(groupGlobs, g)) {
        return true;
      }
    }
    return false;
  }

  boolean connectionMatches(Target t) {
    if (names != null && !SqlMatcher.any(names, t.name())) {
      return false;
    }
    if (types != null && (t.type() == null || !types.contains(t.type()))) {
      return false;
    }
    for (Map.Entry<String, Glob> e : labels.entrySet()) {
      if (!e.getValue().matches(t.labels().get(e.getKey()))) {
        return false;
      }
    }
    return true;
  }

  /** Obligations as written on the rule; unset fields are null. */
  record RuleObligations(
      String masking,
      Boolean readOnly,
      Long maxRows,
      Duration maxSession,
      String recording,
      String upstreamRole) {
    static final RuleObligations EMPTY = new RuleObligations(null, null, null, null, null, null);

    Obligations resolve() {
      Obligations d = Obligations.NONE;
      return new Obligations(
          masking == null ? d.maskingProfile() : masking,
          readOnly == null ? d.readOnly() : readOnly,
          maxRows == null ? d.maxRows() : maxRows,
          maxSession == null ? d.maxSessionDuration() : maxSession,
          recording == null ? d.recording() : recording,
          upstreamRole);
    }
  }
}
