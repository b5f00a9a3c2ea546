package dev.gatehouse.config;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * YAML keys derived from the record components ({@code dataDir} → {@code data_dir}), so the set of
 * accepted keys cannot drift from {@link GatehouseConfig}.
 */
final class Keys {
  private Keys() {}

  static List<String> of(Class<? extends Record> type, String... except) {
    List<String> keys = new ArrayList<>();
    for (RecordComponent c : type.getRecordComponents()) {
      String key = snake(c.getName());
      if (!List.of(except).contains(key)) {
        keys.add(key);
      }
    }
    return List.copyOf(keys);
  }

  static String snake(String camel) {
    StringBuilder sb = new StringBuilder();
    for (char ch : camel.toCharArray()) {
      if (Character.isUpperCase(ch)) {
        sb.append('_').append(Character.toLowerCase(ch));
      } else {
        sb.append(ch);
      }
    }
    return sb.toString().toLowerCase(Locale.ROOT);
  }
}
