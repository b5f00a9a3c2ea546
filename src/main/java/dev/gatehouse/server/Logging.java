package dev.gatehouse.server;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.core.Appender;
import dev.gatehouse.config.GatehouseConfig.LoggingConfig;
import java.util.Locale;
import org.slf4j.LoggerFactory;

/** Applies {@code logging:} from the configuration: text or JSON lines, and the root level. */
final class Logging {
  private Logging() {}

  static void apply(LoggingConfig cfg) {
    if (cfg == null || !(LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx)) {
      return;
    }
    Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    if (cfg.level() != null) {
      root.setLevel(Level.toLevel(cfg.level().toUpperCase(Locale.ROOT), Level.INFO));
    }
    String env = System.getenv("GATEHOUSE_LOG_FORMAT");
    String format = env != null && !env.isBlank() ? env : cfg.format();
    String wanted = "json".equalsIgnoreCase(format) ? "JSON" : "TEXT";
    for (var it = root.iteratorForAppenders(); it.hasNext(); ) {
      if (it.next().getName().equals(wanted)) {
        return;
      }
    }
    Appender<ch.qos.logback.classic.spi.ILoggingEvent> target = build(ctx, wanted);
    root.detachAndStopAllAppenders();
    target.start();
    root.addAppender(target);
  }

  private static Appender<ch.qos.logback.classic.spi.ILoggingEvent> build(
      LoggerContext ctx, String name) {
    if ("JSON".equals(name)) {
      var a = new ch.qos.logback.core.ConsoleAppender<ch.qos.logback.classic.spi.ILoggingEvent>();
      a.setContext(ctx);
      a.setName("JSON");
      a.setTarget("System.err");
      var enc = new ch.qos.logback.classic.encoder.JsonEncoder();
      enc.setContext(ctx);
      enc.setWithSequenceNumber(false);
      enc.setWithNanoseconds(false);
      enc.setWithContext(false);
      enc.start();
      a.setEncoder(enc);
      return a;
    }
    var a = new ch.qos.logback.core.ConsoleAppender<ch.qos.logback.classic.spi.ILoggingEvent>();
    a.setContext(ctx);
    a.setName("TEXT");
    a.setTarget("System.err");
    var enc = new ch.qos.logback.classic.encoder.PatternLayoutEncoder();
    enc.setContext(ctx);
    enc.setPattern(
        "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%thread] %logger{24} - %msg%n%ex{short}");
    enc.start();
    a.setEncoder(enc);
    return a;
  }
}
