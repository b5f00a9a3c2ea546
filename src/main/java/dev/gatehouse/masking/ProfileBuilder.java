package dev.gatehouse.masking;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Mutable profile under construction; built-ins and file profiles both go through it. */
final class ProfileBuilder {
  final String name;
  final LinkedHashMap<String, Detector> detectors = new LinkedHashMap<>();
  final Map<String, Style> styles = new HashMap<>();
  Style fallback;
  final List<ColumnRule> columns = new ArrayList<>();

  ProfileBuilder(String name, Style fallback) {
    this.name = name;
    this.fallback = fallback;
  }

  ProfileBuilder add(Detector d) {
    detectors.put(d.type, d);
    return this;
  }

  ProfileBuilder addAll(List<Detector> ds) {
    ds.forEach(this::add);
    return this;
  }

  ProfileBuilder style(String type, Style s) {
    styles.put(type, s);
    return this;
  }

  ProfileBuilder copyAs(String newName) {
    ProfileBuilder b = new ProfileBuilder(newName, fallback);
    b.detectors.putAll(detectors);
    b.styles.putAll(styles);
    b.columns.addAll(columns);
    return b;
  }

  Profile build() {
    return new Profile(name, List.copyOf(detectors.values()), styles, fallback, columns);
  }
}
