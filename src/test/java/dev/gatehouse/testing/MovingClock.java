package dev.gatehouse.testing;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** A UTC clock that stands still until a test moves it: waiting without sleeping. */
public final class MovingClock extends Clock {
  private volatile Instant now;

  public MovingClock(Instant start) {
    this.now = start;
  }

  /**
   * A clock at the real time now (in whole milliseconds, as the store keeps times), from then on
   * moved only by {@link #advance}.
   */
  public static MovingClock now() {
    return new MovingClock(Instant.ofEpochMilli(System.currentTimeMillis()));
  }

  public synchronized void advance(Duration d) {
    now = now.plus(d);
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }

  @Override
  public Instant instant() {
    return now;
  }
}
