package dev.gatehouse.audit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;

/**
 * The local write-ahead journal in front of the store: session records and audit events are
 * appended here (one {@code write}, and one {@code fdatasync} with {@code audit.durability: fsync},
 * per group) before the caller proceeds, and reach the store asynchronously.
 *
 * <p>Layout: a directory with a file {@code id} (this journal's identity, a UUID, which names its
 * applied position in the store's {@code audit_journal} table; replicas sharing a PostgreSQL store
 * each have their own) and segments {@code segment-<base>.log}, where {@code base} is the journal
 * position (LSN, a byte count since the journal began) of the segment's first byte. A segment is a
 * sequence of frames: {@code int length, int CRC-32C of the payload, payload}. The LSN of a frame
 * is the position just past it, so "applied up to L" means every frame ending at or before L.
 *
 * <p>A crash can leave a torn frame at the end of the last segment (its callers were never
 * released, so nothing promised is lost): recovery stops there and truncates it. A bad frame
 * anywhere else is corruption and refuses the start, since records could be missing.
 *
 * <p>Not thread-safe: one writer thread appends; {@link #retire} may be called from another thread
 * and only deletes closed segments.
 */
final class Journal implements AutoCloseable {
  /** Largest frame payload: a statement text is at most 1 MB in the store, a stream chunk less. */
  static final int MAX_FRAME = 8 << 20;

  /**
   * Zeros written ahead of the frames, in steps of this size. An append that stays inside them
   * changes neither the file's size nor its blocks, so its fdatasync flushes the data alone; an
   * append that grows the file must also commit the file system's journal, which on ext4 first
   * writes out every other file's pending data (the store's, the target's). PostgreSQL pre-zeroes
   * its WAL segments for the same reason.
   */
  static final int PREALLOCATE = 4 << 20;

  /** A segment is closed and a new one started past this size, so applied ones can be deleted. */
  static final long SEGMENT_BYTES = 64L << 20;

  private static final Pattern SEGMENT = Pattern.compile("segment-(\\d{20})\\.log");
  private static final int HEADER = 8;

  private final Path dir;
  private final String id;
  private final boolean fsync;
  private final long segmentBytes;
  private final List<Long> closedBases = new ArrayList<>(); // guarded by this
  private FileChannel current;
  private long currentBase;
  private volatile long end;

  /** File offset up to which the current segment holds zeros written ahead (see preallocate). */
  private long allocated;

  private FileChannel lockFile;
  private IOException broken;

  private Journal(Path dir, String id, boolean fsync, long segmentBytes) {
    this.dir = dir;
    this.id = id;
    this.fsync = fsync;
    this.segmentBytes = segmentBytes;
  }

  /**
   * Opens (creating) the journal in {@code dir} and reads every frame past {@code applied(id)}, the
   * position the store has applied. The frames read are passed to {@code replay} in order, before
   * any new append.
   */
  static Journal open(
      Path dir,
      boolean fsync,
      long segmentBytes,
      java.util.function.ToLongFunction<String> applied,
      FrameSink replay)
      throws IOException {
    Files.createDirectories(dir);
    try {
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    } catch (UnsupportedOperationException ignored) {
      // Not a POSIX file system; the data directory's own permissions apply.
    }
    // One writer per journal: a second gateway on the same data directory would interleave
    // segments (the embedded store itself allows a second process through AUTO_SERVER).
    FileChannel lockFile =
        FileChannel.open(dir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    java.nio.channels.FileLock lock;
    try {
      lock = lockFile.tryLock();
    } catch (java.nio.channels.OverlappingFileLockException e) {
      lock = null; // held by this same process
    } catch (IOException e) {
      lockFile.close();
      throw e;
    }
    if (lock == null) {
      lockFile.close();
      throw new IOException(
          dir
              + " is in use by another gateway process (one gateway per data directory; replicas"
              + " need their own data_dir)");
    }
    try {
      return openLocked(dir, fsync, segmentBytes, applied, replay, lockFile);
    } catch (IOException | RuntimeException e) {
      lockFile.close();
      throw e;
    }
  }

  private static Journal openLocked(
      Path dir,
      boolean fsync,
      long segmentBytes,
      java.util.function.ToLongFunction<String> applied,
      FrameSink replay,
      FileChannel lockFile)
      throws IOException {
    Path idFile = dir.resolve("id");
    String id;
    if (Files.exists(idFile)) {
      id = Files.readString(idFile, StandardCharsets.US_ASCII).trim();
      if (!id.matches("[0-9a-f-]{36}")) {
        throw new IOException(idFile + " does not hold a journal id (expected a UUID)");
      }
    } else {
      id = UUID.randomUUID().toString();
      Path tmp = dir.resolve("id.tmp");
      Files.writeString(tmp, id + "\n", StandardCharsets.US_ASCII);
      Files.move(tmp, idFile, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
    Journal j = new Journal(dir, id, fsync, segmentBytes);
    j.lockFile = lockFile;
    j.recover(applied.applyAsLong(id), replay);
    return j;
  }

  /** Receives the frames recovery finds past the applied position. */
  @FunctionalInterface
  interface FrameSink {
    void frame(byte[] payload, long lsn) throws IOException;
  }

  String id() {
    return id;
  }

  /** The position past the last frame written. */
  long end() {
    return end;
  }

  boolean fsync() {
    return fsync;
  }

  private void recover(long applied, FrameSink replay) throws IOException {
    List<Long> bases = segmentBases();
    long position = bases.isEmpty() ? Math.max(applied, 0) : bases.get(0);
    for (int i = 0; i < bases.size(); i++) {
      long base = bases.get(i);
      boolean last = i == bases.size() - 1;
      if (base != position) {
        throw new IOException(
            "audit journal "
                + dir
                + ": segment "
                + segmentName(base)
                + " does not follow the previous one (expected base "
                + position
                + "); records may be missing");
      }
      Path file = dir.resolve(segmentName(base));
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
        long size = ch.size();
        long offset = HEADER;
        ByteBuffer head = ByteBuffer.allocate(8);
        while (offset < size) {
          head.clear();
          if (ch.read(head, offset) != 8 || head.hasRemaining()) {
            position = torn(last, file, base, offset, "short frame header");
            break;
          }
          head.flip();
          int length = head.getInt();
          int crc = head.getInt();
          if (length == 0 && crc == 0) {
            break; // the zeros written ahead of the frames (see preallocate): the end
          }
          if (length < 0 || length > MAX_FRAME || offset + 8 + length > size) {
            position = torn(last, file, base, offset, "frame length " + length);
            break;
          }
          ByteBuffer payload = ByteBuffer.allocate(length);
          while (payload.hasRemaining()) {
            if (ch.read(payload, offset + 8 + payload.position()) < 0) {
              break;
            }
          }
          byte[] bytes = payload.array();
          CRC32C check = new CRC32C();
          check.update(bytes);
          if ((int) check.getValue() != crc) {
            position = torn(last, file, base, offset, "checksum mismatch");
            break;
          }
          offset += 8 + length;
          long lsn = base + offset - HEADER;
          if (lsn > applied) {
            replay.frame(bytes, lsn);
          }
          position = lsn;
        }
        if (offset >= size) {
          position = base + Math.max(offset, HEADER) - HEADER;
        }
      }
    }
    end = Math.max(position, applied);
    if (!bases.isEmpty() && bases.get(bases.size() - 1) >= end) {
      // The last segment holds no frame (a crash right after it was created): start it again.
      Files.deleteIfExists(dir.resolve(segmentName(bases.remove(bases.size() - 1))));
    }
    // Everything found has been handed to replay: start a fresh segment; the old ones go once the
    // caller has applied the replay and calls retire.
    synchronized (this) {
      closedBases.addAll(bases);
    }
    startSegment(end);
  }

  private long torn(boolean last, Path file, long base, long offset, String why)
      throws IOException {
    if (!last) {
      throw new IOException(
          "audit journal "
              + file
              + " is damaged at byte "
              + offset
              + " ("
              + why
              + ") and is not the last segment: records may be missing. Move the journal away to"
              + " start without it, after checking it.");
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.truncate(offset);
      ch.force(true);
    }
    org.slf4j.LoggerFactory.getLogger(Journal.class)
        .warn(
            "audit journal: dropped a torn frame at the end of {} ({}): a write interrupted by a"
                + " crash, never confirmed to its caller",
            file,
            why);
    return base + offset - HEADER;
  }

  private List<Long> segmentBases() throws IOException {
    List<Long> bases = new ArrayList<>();
    try (var files = Files.list(dir)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Matcher m = SEGMENT.matcher(p.getFileName().toString());
        if (m.matches()) {
          bases.add(Long.parseLong(m.group(1)));
        }
      }
    }
    bases.sort(null);
    return bases;
  }

  private static String segmentName(long base) {
    return String.format("segment-%020d.log", base);
  }

  private void startSegment(long base) throws IOException {
    if (current != null) {
      current.force(false); // groups written without a sync of their own
      current.close();
      synchronized (this) {
        closedBases.add(currentBase);
      }
    }
    Path file = dir.resolve(segmentName(base));
    FileChannel ch =
        FileChannel.open(
            file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.READ);
    try {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException ignored) {
      // See the directory.
    }
    ByteBuffer header = ByteBuffer.allocate(HEADER);
    header.put("GHJ1".getBytes(StandardCharsets.US_ASCII)).putInt(1).flip();
    while (header.hasRemaining()) {
      ch.write(header);
    }
    ch.force(true);
    forceDirectory();
    allocated = HEADER;
    current = ch;
    synchronized (this) {
      currentBase = base;
    }
  }

  /** A new file's name is durable only once its directory is synced. */
  private void forceDirectory() {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException | UnsupportedOperationException ignored) {
      // Some file systems cannot open a directory; the segment's own force still holds its bytes.
    }
  }

  /**
   * Appends frames in one write, then syncs them with {@code fsync} durability. Returns the LSN of
   * each frame.
   */
  long[] append(List<byte[]> payloads) throws IOException {
    return append(payloads, fsync);
  }

  /** Like {@link #append(List)}; {@code sync} false leaves the sync to the next synced group. */
  long[] append(List<byte[]> payloads, boolean sync) throws IOException {
    if (end - currentBase >= segmentBytes) {
      startSegment(end);
    }
    int total = 0;
    for (byte[] p : payloads) {
      if (p.length > MAX_FRAME) {
        throw new IOException(
            "audit journal: a record of " + p.length + " bytes is over the limit of " + MAX_FRAME);
      }
      total += 8 + p.length;
    }
    ByteBuffer buf = ByteBuffer.allocate(total);
    long[] lsns = new long[payloads.size()];
    long lsn = end;
    CRC32C crc = new CRC32C();
    for (int i = 0; i < payloads.size(); i++) {
      byte[] p = payloads.get(i);
      crc.reset();
      crc.update(p);
      buf.putInt(p.length).putInt((int) crc.getValue()).put(p);
      lsn += 8 + p.length;
      lsns[i] = lsn;
    }
    buf.flip();
    long at = HEADER + (end - currentBase);
    if (broken != null) {
      throw new IOException("audit journal is unusable after an earlier failure", broken);
    }
    try {
      preallocate(at + total);
      while (buf.hasRemaining()) {
        at += current.write(buf, at);
      }
      if (sync) {
        current.force(false);
      }
    } catch (IOException e) {
      // Part of this group may be in the file, with valid checksums: cut it off, or recovery
      // would replay records that were never confirmed. If even that fails, stop appending.
      try {
        current.truncate(HEADER + (end - currentBase));
        current.force(false);
        allocated = HEADER + (end - currentBase);
      } catch (IOException again) {
        e.addSuppressed(again);
        broken = e;
      }
      throw e;
    }
    end = lsn;
    return lsns;
  }

  /** Writes zeros ahead so that the file covers {@code needed} bytes, and syncs its new size. */
  private void preallocate(long needed) throws IOException {
    if (needed <= allocated) {
      return;
    }
    long target = Math.max(needed, allocated + PREALLOCATE);
    ByteBuffer zeros = ByteBuffer.allocate(64 << 10);
    long at = allocated;
    while (at < target) {
      zeros.clear().limit((int) Math.min(zeros.capacity(), target - at));
      at += current.write(zeros, at);
    }
    current.force(true);
    allocated = target;
  }

  /**
   * Deletes closed segments wholly at or before {@code applied}. The caller must have made the
   * store durable up to {@code applied} first.
   */
  void retire(long applied) {
    List<Long> doomed = new ArrayList<>();
    synchronized (this) {
      // A closed segment ends where the next one (closed or current) begins.
      for (int i = 0; i < closedBases.size(); i++) {
        long next =
            i + 1 < closedBases.size()
                ? closedBases.get(i + 1)
                : currentBase == Long.MAX_VALUE ? end : currentBase;
        if (next <= applied) {
          doomed.add(closedBases.get(i));
        }
      }
      closedBases.removeAll(doomed);
    }
    for (long base : doomed) {
      try {
        Files.deleteIfExists(dir.resolve(segmentName(base)));
      } catch (IOException e) {
        throw new UncheckedIOException("audit journal: cannot delete an applied segment", e);
      }
    }
  }

  /** Closes the current segment so that {@link #retire} may delete it (at a clean stop). */
  void closeCurrent() {
    synchronized (this) {
      closedBases.add(currentBase);
      currentBase = Long.MAX_VALUE;
    }
  }

  /** True when a closed segment waits for {@link #retire}. */
  synchronized boolean hasClosedSegments() {
    return !closedBases.isEmpty();
  }

  @Override
  public void close() throws IOException {
    try {
      if (current != null) {
        current.close();
      }
    } finally {
      if (lockFile != null) {
        lockFile.close(); // releases the lock
      }
    }
  }
}
